"""Background traffic for the fault tests: a few users chatting through the balancer until told
to stop, every request recorded. A user whose message failed starts a new conversation and
never re-sends it (nobody knows whether the failed one was handled); every few turns a user
starts a new conversation anyway."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.cluster.clients import SMALL_TALK, Turn, new_sender, say, transcript, user_texts

# What each small-talk message must be answered with.
EXPECTED = {"你好": "欢迎", "谢谢": "不客气", "怎么联系客服": "客服"}
MAX_TURNS_PER_USER = 400
# A conversation's length: well under the channels' per-sender rate limit (shared by the
# instances), which a user typing this fast would otherwise hit.
TURNS_PER_CONVERSATION = 9


@dataclass
class Load:
    """``users`` threads, each sending small talk through ``url`` until ``stop``."""

    url: str
    users: int = 4
    turns: list[Turn] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _user(self, index: int) -> None:
        sender = new_sender(f"bg{index}")
        with httpx.Client(base_url=self.url) as client:
            for count in range(MAX_TURNS_PER_USER):
                if self._stop.is_set():
                    return
                turn = say(client, sender, SMALL_TALK[count % len(SMALL_TALK)], timeout=60)
                with self._lock:
                    self.turns.append(turn)
                if not turn.answered or (count + 1) % TURNS_PER_CONVERSATION == 0:
                    sender = new_sender(f"bg{index}")
                if not turn.answered:
                    time.sleep(0.2)

    def __enter__(self) -> Load:
        for index in range(self.users):
            thread = threading.Thread(target=self._user, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def count(self) -> int:
        with self._lock:
            return len(self.turns)

    def wait_turns(self, more: int, timeout: float = 120) -> None:
        """Until ``more`` further turns were recorded (the load is really flowing)."""
        target = self.count() + more
        deadline = time.monotonic() + timeout
        while self.count() < target:
            assert time.monotonic() < deadline, f"the load stalled at {self.count()} turns"
            time.sleep(0.1)

    def statuses(self, since: float = 0.0, until: float = float("inf")) -> Counter[int]:
        with self._lock:
            return Counter(t.status for t in self.turns if since <= t.started < until)

    def failures(self) -> list[tuple[int, str, str | None, float]]:
        """The failed turns: status (0: no HTTP answer), what came back, the instance, when."""
        with self._lock:
            return [
                (t.status, t.reply or str(t.body), t.node, t.started) for t in self.turns if t.status != 200
            ]

    def wrong_answers(self) -> list[Turn]:
        """Turns answered (not the busy reply) with something else than the message's answer."""
        with self._lock:
            return [t for t in self.turns if t.answered and EXPECTED[t.text] not in t.reply]

    def busy(self, since: float = 0.0) -> list[Turn]:
        """Turns answered with the busy reply since ``since``."""
        with self._lock:
            return [t for t in self.turns if t.busy and t.started >= since]

    def transcript_problems(self, db_url: str) -> list[str]:
        """What is wrong with the stored conversations: every message answered 200 must be
        stored exactly once, in the order sent; a failed one at most once (never replayed);
        nothing stored may be corrupted (``transcript`` checks every row)."""
        by_sender: dict[str, list[Turn]] = {}
        with self._lock:
            for turn in self.turns:
                by_sender.setdefault(turn.sender, []).append(turn)
        problems = []
        for sender, turns in by_sender.items():
            stored = user_texts(transcript(db_url, f"rest:{sender}"))
            answered = [t.text for t in turns if t.answered]
            sent = [t.text for t in turns]
            if all(t.answered for t in turns) and stored != answered:
                problems.append(f"{sender}: stored {stored}, answered {answered}")
            elif len(stored) > len(sent) or not _is_subsequence(answered, stored):
                problems.append(f"{sender}: stored {stored}, answered {answered}, sent {sent}")
            elif not _is_subsequence(stored, sent):
                problems.append(f"{sender}: stored out of order {stored}, sent {sent}")
        return problems


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)
