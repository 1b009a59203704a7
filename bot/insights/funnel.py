"""Each flow's funnel: how many conversations started a form, reached each of its steps (the
slots it asks, in the order of domain.yml's ``required_slots``), finished it, and at which
step the others left.

A form asked again after an interruption in the same conversation is the same run. A step the
form skipped because the user had already said it counts as reached when a later one is. A
run that was left (``算了``, a person, another topic, or silence) left at the last step asked;
"start" when it left before the first question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REQUESTED_SLOT = "requested_slot"
START = "start"


@dataclass(frozen=True)
class Run:
    """One conversation's run through one form."""

    flow: str
    reached: int  # how many steps it reached (0: none asked)
    completed: bool
    left_at: str | None  # the step it left at (None when completed)


@dataclass
class _State:
    reached: int = 0
    last: str | None = None
    completed: bool = False


def runs(events: Sequence[dict[str, Any]], flows: Mapping[str, Sequence[str]]) -> list[Run]:
    """The form runs of one conversation's events (``flows``: form name → its steps)."""
    states: dict[str, _State] = {}
    active: str | None = None
    last_action: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "action":
            last_action = str(event.get("name") or "")
        elif kind == "active_loop":
            name = event.get("name")
            if isinstance(name, str) and name in flows:
                active = name
                states.setdefault(name, _State())
            elif name is None and active is not None:
                if last_action == active:  # the form deactivated itself: every slot is filled
                    states[active].completed = True
                    states[active].reached = len(flows[active])
                active = None
        elif kind == "slot" and event.get("name") == REQUESTED_SLOT and active is not None:
            value, steps, state = event.get("value"), flows[active], states[active]
            if isinstance(value, str) and value in steps:
                state.reached = max(state.reached, steps.index(value) + 1)
                state.last = value
    return [
        Run(flow, s.reached, s.completed, None if s.completed else (s.last or START))
        for flow, s in states.items()
    ]


@dataclass(frozen=True)
class Funnel:
    """One flow's figures: ``reached[i]`` runs reached step i (``steps[i]``); ``left`` counts the
    runs that left at each step."""

    flow: str
    steps: tuple[str, ...]
    started: int
    reached: tuple[int, ...]
    completed: int
    left: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        """The funnel as the reports' JSON."""
        return {
            "flow": self.flow,
            "started": self.started,
            "steps": [{"step": s, "reached": n} for s, n in zip(self.steps, self.reached, strict=True)],
            "completed": self.completed,
            "left": self.left,
            "completion_rate": _rate(self.completed, self.started),
        }


def funnels(all_runs: Iterable[Run], flows: Mapping[str, Sequence[str]]) -> list[Funnel]:
    """The funnel of every flow (those nobody started too), in the domain's order."""
    by_flow: dict[str, list[Run]] = {flow: [] for flow in flows}
    for run in all_runs:
        by_flow.setdefault(run.flow, []).append(run)
    found = []
    for flow, steps in flows.items():
        mine = by_flow[flow]
        left: dict[str, int] = {step: 0 for step in (START, *steps)}
        for run in mine:
            if run.left_at is not None:
                left[run.left_at] = left.get(run.left_at, 0) + 1
        reached = tuple(sum(1 for r in mine if r.reached > i) for i in range(len(steps)))
        found.append(Funnel(flow, tuple(steps), len(mine), reached, sum(r.completed for r in mine), left))
    return found


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)
