"""Small pure helpers of the reports: percentiles, rates, counts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile (``p`` in 0–100): the smallest value with at least p% of
    the values at or below it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return round(float(ordered[rank - 1]), 3)


def spread(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """``count``, ``p50`` and ``p90`` of the known values (seconds)."""
    known = [v for v in values if v is not None]
    return {"count": len(known), "p50": percentile(known, 50), "p90": percentile(known, 90)}


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to four places (None when ``whole`` is 0)."""
    return None if whole == 0 else round(part / whole, 4)


def average(values: Sequence[int]) -> float | None:
    """The mean to two places (None for no values)."""
    return None if not values else round(sum(values) / len(values), 2)


def distribution(scores: Iterable[int]) -> dict[str, int]:
    """How many of each score 1 to 5 (every score present, zero when none)."""
    counts = {str(n): 0 for n in range(1, 6)}
    for score in scores:
        counts[str(score)] += 1
    return counts
