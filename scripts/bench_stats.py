"""The benchmark's arithmetic: percentiles, one phase's summary, windows of a long conversation.
Pure functions, no I/O."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

FAILED_SHOWN = 5


@dataclass(frozen=True)
class Turn:
    """One request: when it started (monotonic seconds), how long it took, its HTTP status (0:
    none), what was wrong with the answer (``""``: a good answer) and the message sent."""

    started: float
    seconds: float
    status: int
    problem: str = ""
    text: str = ""

    @property
    def ok(self) -> bool:
        """Answered 200 with a real reply."""
        return not self.problem


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks
    (numpy's default); NaN for no values.

    Raises:
        ValueError: ``q`` outside 0-100.
    """
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0 and 100")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """One load phase: latency in seconds of the answered turns, throughput in messages/s."""

    concurrency: int
    messages: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float
    mean: float
    throughput: float
    problems: dict[str, int]
    failed_messages: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures."""
        return {
            "concurrency": self.concurrency,
            "messages": self.messages,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "p50_ms": _ms(self.p50),
            "p95_ms": _ms(self.p95),
            "p99_ms": _ms(self.p99),
            "mean_ms": _ms(self.mean),
            "throughput_msg_s": round(self.throughput, 2),
            "problems": self.problems,
            "failed_messages": self.failed_messages,
        }


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 1)


def summarize(turns: Sequence[Turn], seconds: float, concurrency: int) -> Summary:
    """Latency percentiles of the good answers; throughput = good answers / wall time; every
    other turn is an error, counted by its problem."""
    good = [t.seconds for t in turns if t.ok]
    problems = Counter(t.problem for t in turns if not t.ok)
    return Summary(
        concurrency=concurrency,
        messages=len(turns),
        errors=sum(problems.values()),
        seconds=seconds,
        p50=percentile(good, 50),
        p95=percentile(good, 95),
        p99=percentile(good, 99),
        mean=statistics.fmean(good) if good else math.nan,
        throughput=len(good) / seconds if seconds > 0 else math.nan,
        problems=dict(sorted(problems.items())),
        failed_messages=dict(Counter(t.text for t in turns if not t.ok).most_common(FAILED_SHOWN)),
    )


def window_median(latencies: Sequence[float], turn: int, half: int = 2) -> float:
    """The median latency of turns ``turn - half`` … ``turn + half`` (1-based, as a user counts
    them) of one conversation; the turns that exist of that window; NaN if none."""
    window = latencies[max(0, turn - 1 - half) : max(0, turn + half)]
    return statistics.median(window) if window else math.nan
