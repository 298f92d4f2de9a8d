"""A steady load through each host's proxy while a deploy step runs, to prove what users saw.

    with SteadyLoad(["http://10.77.0.11/", "http://10.77.0.12/"]) as load:
        site_yml(...)
    assert load.report().failed == 0

Each URL gets its own thread sending one GET after another over one kept-alive connection, as a
browser does (a short pause between them keeps two shared cores free for the deploy itself).
Every answer is kept: its status and its time.

A kept-alive connection may be closed by the server while the next request is on its way: Caddy
closes its idle connections when it reloads its configuration, as any HTTP server may at any
time. HTTP/1.1 clients retry an idempotent request in exactly that case (RFC 9112, 9.3.1: the
connection was reused, and closed or reset before any byte of an answer), and browsers, curl
and Go do. So does this one, once, on a new connection: the answer counts (its time includes
both tries), the retry is counted and printed, and anything else that goes wrong is a failure:
a new connection closed or reset without an answer, a refusal, a timeout, an answer cut short.

Bounded: a thread stops when told, after MAX_SECONDS, or after MAX_REQUESTS, whichever first."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from typing import Self

import requests
import urllib3

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
    retried: bool = False  # sent again after its kept-alive connection closed unanswered


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
    def retried(self) -> int:
        return sum(a.retried for a in self.answers)

    @property
    def slowest(self) -> float:
        return max((a.seconds for a in self.answers), default=0.0)

    def percentile(self, p: float) -> float:
        times = sorted(a.seconds for a in self.answers)
        return times[min(len(times) - 1, int(len(times) * p))] if times else 0.0

    def summary(self) -> str:
        first = self.failures[:3]
        return (f"{self.total} requests, {self.failed} failed ({self.retried} retried after a "
                f"kept-alive connection closed), slowest {self.slowest:.3f}s, "
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
        kept_alive = False  # the session holds a connection an earlier answer came over
        deadline = time.monotonic() + MAX_SECONDS
        sent = 0
        while not self._stop.is_set() and time.monotonic() < deadline and sent < MAX_REQUESTS:
            started = time.monotonic()
            retried = False
            while True:
                try:
                    response = session.get(url, headers=self.headers, timeout=TIMEOUT)
                    answer = Answer(url, started, time.monotonic() - started, response.status_code,
                                    "" if response.status_code == 200 else response.text[:200],
                                    retried)
                    kept_alive = True
                except requests.RequestException as exc:
                    session = requests.Session()  # a broken connection is not reused
                    if kept_alive and not retried and closed_unanswered(exc):
                        kept_alive = retried = True
                        continue
                    kept_alive = False
                    answer = Answer(url, started, time.monotonic() - started, None, repr(exc),
                                    retried)
                break
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



def closed_unanswered(exc: BaseException) -> bool:
    """The server closed the connection before any byte of an answer: urllib3's "Connection
    aborted." (raised while sending the request or reading the status line, never once an
    answer has begun) over a close (RemoteDisconnected) or a reset (the server closed with the
    request unread in its socket, so its kernel answered with a reset). requests wraps it in
    its own exception's args."""
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return (len(exc.args) == 2 and exc.args[0] == "Connection aborted."
                and isinstance(exc.args[1], (http.client.RemoteDisconnected,
                                             ConnectionResetError, BrokenPipeError)))
    return any(isinstance(arg, BaseException) and closed_unanswered(arg) for arg in exc.args)
