"""A steady load through each host's proxy while a deploy step runs, to prove what users saw.

    with SteadyLoad(["http://10.77.0.11/", "http://10.77.0.12/"]) as load:
        site_yml(...)
    assert load.report().failed == 0

Each URL gets its own thread sending one GET after another (a short pause between them keeps
two shared cores free for the deploy itself). Every answer is kept: its status and its time.
Bounded: a thread stops when told, after MAX_SECONDS, or after MAX_REQUESTS, whichever first."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Self

import requests

MAX_SECONDS = 900
MAX_REQUESTS = 200_000
PAUSE = 0.05  # seconds between two requests of one thread: a steady load, not a saturating one
TIMEOUT = 15  # a request slower than this counts as failed


@dataclass
class Answer:
    url: str
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    error: str = ""


@dataclass
class Report:
    answers: list[Answer] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.answers)

    @property
    def failures(self) -> list[Answer]:
        return [a for a in self.answers if a.status != 200]

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def slowest(self) -> float:
        return max((a.seconds for a in self.answers), default=0.0)

    def percentile(self, p: float) -> float:
        times = sorted(a.seconds for a in self.answers)
        return times[min(len(times) - 1, int(len(times) * p))] if times else 0.0

    def summary(self) -> str:
        first = self.failures[:3]
        return (f"{self.total} requests, {self.failed} failed, slowest {self.slowest:.3f}s, "
                f"p50 {self.percentile(0.5) * 1000:.0f}ms, p99 {self.percentile(0.99) * 1000:.0f}ms"
                + (f"; first failures: {[(a.url, a.status, a.error[:120]) for a in first]}" if first else ""))


class SteadyLoad:
    def __init__(self, urls: list[str], headers: dict[str, str] | None = None):
        self.urls = urls
        self.headers = headers or {}
        self._stop = threading.Event()
        self._answers: list[Answer] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(url,), daemon=True) for url in urls]

    def _run(self, url: str) -> None:
        session = requests.Session()
        deadline = time.monotonic() + MAX_SECONDS
        sent = 0
        while not self._stop.is_set() and time.monotonic() < deadline and sent < MAX_REQUESTS:
            started = time.monotonic()
            try:
                response = session.get(url, headers=self.headers, timeout=TIMEOUT)
                answer = Answer(url, started, time.monotonic() - started, response.status_code,
                                "" if response.status_code == 200 else response.text[:200])
            except requests.RequestException as exc:
                answer = Answer(url, started, time.monotonic() - started, None, repr(exc))
                session = requests.Session()  # a broken connection is not reused
            with self._lock:
                self._answers.append(answer)
            sent += 1
            self._stop.wait(PAUSE)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        time.sleep(1)  # some answers from before the step begins
        return self

    def __exit__(self, *exc_info) -> None:
        time.sleep(1)  # and some from after it ended
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMEOUT + 5)

    def report(self) -> Report:
        with self._lock:
            return Report(list(self._answers))
