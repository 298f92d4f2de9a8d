"""Print query counts and latency figures for `app/bench` (which prepares the database)."""

import argparse
import os
import statistics
import time

# The test suite's settings (library.settings_test): production's, with static files from the
# finders (no collectstatic into the tree) and throttling on at rates no benchmark reaches.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def latency(client: Client, url: str, count: int) -> tuple[float, float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    count = max(1, min(parser.parse_args().requests, 1000))  # bounded
    client = Client()
    client.get("/api/v1/books/")  # warm up: connection, URL resolver, templates
    print("queries per request (constant whatever the page holds):")
    for url in ["/api/v1/books/?page_size=20", "/api/v1/books/?page_size=100", "/",
                "/?q=austen"]:
        print(f"  {url:32} {queries(client, url):3d} queries")
    print("  (the throttle counters and sessions live in the cache server: no query of theirs)")
    print(f"latency over {count} sequential requests (Django test client, no network):")
    for url in ["/api/v1/books/", "/healthz", "/readyz", "/"]:
        median, p95 = latency(client, url, count)
        print(f"  {url:32} median {median:7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
