"""tests/e2e/load.py, the load generator the deploys' zero-downtime proofs rest on: it must retry
exactly what an HTTP/1.1 client retries (a GET whose kept-alive connection the server closed
before answering) and count everything else as failed. Against real servers on loopback."""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))

import load

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


class Server:
    """Answers the first `answered` requests of every connection, then reads the next request
    and closes the connection without a byte of answer (as a server closing an idle connection
    at the moment a request arrives)."""

    def __init__(self, answered: int, reset: bool = False):
        self.answered = answered
        self.reset = reset  # close with the request unread: the kernel sends a reset
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            for _ in range(self.answered):
                if not self._read_request(conn):
                    return
                conn.sendall(OK)
            if self.reset:
                time.sleep(0.05)  # the next request arrives, and is left unread
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self._read_request(conn)

    @staticmethod
    def _read_request(conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            data += chunk
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fast_load(monkeypatch):
    monkeypatch.setattr(load, "PAUSE", 0.01)
    monkeypatch.setattr(load, "TIMEOUT", 5)


def run_against(server: Server, seconds: float) -> load.Report:
    """The generator's report after `seconds` against `server`, which is closed afterwards."""
    try:
        with load.SteadyLoad([server.url]) as generator:
            time.sleep(seconds)
    finally:
        server.close()
    return generator.report()


def test_a_kept_alive_connection_closed_unanswered_is_retried_once_and_counted(fast_load):
    # Every fourth request on a connection is closed unanswered.
    report = run_against(Server(answered=3), 0.5)
    assert report.total > 20, report.summary()
    assert report.failed == 0, report.summary()
    # Every connection ends that way: one retry per three answers, give or take the last one.
    assert report.retried >= report.total // 3 - 1, report.summary()
    assert all(a.status == 200 for a in report.answers if a.retried)
    assert "retried after a kept-alive connection closed" in report.summary()


def test_a_kept_alive_connection_reset_unanswered_is_retried_once_and_counted(fast_load):
    report = run_against(Server(answered=2, reset=True), 0.5)
    assert report.total > 10, report.summary()
    assert report.failed == 0, report.summary()
    assert report.retried >= report.total // 2 - 1, report.summary()


def test_a_new_connection_closed_unanswered_is_a_failure(fast_load):
    report = run_against(Server(answered=0), 0.3)  # answers nothing
    assert report.total > 5, report.summary()
    assert report.failed == report.total, report.summary()
    assert report.retried == 0, report.summary()
    assert all("RemoteDisconnected" in a.error for a in report.answers)


def test_a_refused_connection_is_a_failure(fast_load):
    server = Server(answered=0)
    server.close()  # nothing listens there now
    report = run_against(server, 0.2)
    assert report.total > 0
    assert report.failed == report.total and report.retried == 0, report.summary()
