"""Print query counts and latency figures for `app/bench` (which prepares the databases).

`bench.py measure` measures the catalogue in DATABASE_URL and saves its figures as JSON;
`bench.py compare SMALL LARGE` prints how much the large catalogue costs over the small one.
"""

import argparse
import json
import os
import re
import statistics
import time

# The test suite's settings (library.settings_test): production's, with static files from the
# finders (no collectstatic into the tree) and throttling on at rates no benchmark reaches.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings_test")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalog.models import Book  # noqa: E402
from circulation.models import Copy, Loan  # noqa: E402

# The two pages the catalogue is read through, and their last full pages (20 books after an
# OFFSET past all the others: as many rows as the first page, so only the OFFSET differs),
# timed cold and warm.
TIMED = {"catalogue page": "/", "API book list": "/api/v1/books/",
         "catalogue, last": "/?page={last}", "API list, last": "/api/v1/books/?page={last}"}
PAGE_SIZE = 20
# Every list page whose query count must not grow with the catalogue.
COUNTED = ["/", "/?page=2", "/?q=austen", "/api/v1/books/?page_size=20",
           "/api/v1/books/?page_size=100", "/api/v1/books/?page=2", "/api/v1/books/?search=austen"]
LOANED_EVERY = 10  # one copy in ten is out, so availability has loans to look through


def lend_some_copies() -> None:
    borrower, _ = get_user_model().objects.get_or_create(username="bench-borrower")
    if Loan.objects.filter(borrower=borrower).exists():
        return
    copies = Copy.objects.order_by("pk").values_list("pk", flat=True)[::LOANED_EVERY]
    Loan.objects.bulk_create(Loan(copy_id=pk, borrower=borrower) for pk in copies)


def cold() -> None:
    """Empty the cache, as a change to the catalogue does to every cached page (the
    throttle counters go too: at the benchmark's rates they hold nothing)."""
    cache.clear()


def get(client: Client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


# The page's own queries, on the catalogue's tables; the others read the catalogue's version
# (one a request) or, in a release that kept its cache in the database, are the cache's.
CATALOGUE_TABLES = re.compile(r'"(catalog|circulation)_')


def queries(client: Client, url: str, warm: bool) -> dict:
    if warm:
        get(client, url)
    else:
        cold()
    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    sql = [query["sql"] for query in captured]
    return {"catalogue": sum(1 for text in sql if CATALOGUE_TABLES.search(text)), "all": len(sql)}


def latency(client: Client, url: str, count: int, warm: bool) -> dict:
    timings = []
    for _ in range(count):
        if not warm:
            cold()
        started = time.perf_counter()
        get(client, url)
        timings.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(timings),
            "p95": statistics.quantiles(timings, n=20)[-1]}


def measure(count: int) -> dict:
    lend_some_copies()
    last = max(1, Book.objects.count() // PAGE_SIZE)
    client = Client()
    get(client, "/api/v1/books/")  # warm up: connection, URL resolver, templates
    return {
        "books": Book.objects.count(), "copies": Copy.objects.count(),
        "loans": Loan.objects.filter(returned_at=None).count(),
        "queries": {url: {"cold": queries(client, url, warm=False),
                          "warm": queries(client, url, warm=True)} for url in COUNTED},
        "latency": {name: {"cold": latency(client, url.format(last=last), count, warm=False),
                           "warm": latency(client, url.format(last=last), count, warm=True)}
                    for name, url in TIMED.items()},
        "healthz": latency(client, "/healthz", count, warm=True),
    }


def show(figures: dict, count: int) -> None:
    print(f"{figures['books']} books, {figures['copies']} copies, {figures['loans']} on loan")
    print("  queries per request on the catalogue's tables (all queries), cache cold / warm:")
    for url, counted in figures["queries"].items():
        cold_, warm = counted["cold"], counted["warm"]
        print(f"    {url:32} {cold_['catalogue']:3d} ({cold_['all']:2d}) /"
              f" {warm['catalogue']:3d} ({warm['all']:2d})")
    print(f"  latency over {count} sequential requests (Django test client, no network):")
    for name, states in figures["latency"].items():
        for state, timing in states.items():
            print(f"    {name:16} {state:4}  median {timing['median']:7.2f} ms"
                  f"   p95 {timing['p95']:7.2f} ms")
    print(f"    {'/healthz':21}  median {figures['healthz']['median']:7.2f} ms"
          f"   p95 {figures['healthz']['p95']:7.2f} ms")


def compare(small: dict, large: dict) -> None:
    print(f"large catalogue ({large['books']} books) over small ({small['books']} books):")
    same = all(large["queries"][url] == small["queries"][url] for url in COUNTED)
    print(f"  queries per list page: {'the same' if same else 'DIFFERENT'}"
          " for every page counted")
    for name in TIMED:
        for state in ("cold", "warm"):
            ratios = [large["latency"][name][state][key] / small["latency"][name][state][key]
                      for key in ("median", "p95")]
            print(f"  {name:16} {state:4}  median x{ratios[0]:5.2f}   p95 x{ratios[1]:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    measuring = commands.add_parser("measure")
    measuring.add_argument("--requests", type=int, default=200)
    measuring.add_argument("--out", required=True)
    comparing = commands.add_parser("compare")
    comparing.add_argument("small")
    comparing.add_argument("large")
    args = parser.parse_args()
    if args.command == "compare":
        with open(args.small) as small, open(args.large) as large:
            compare(json.load(small), json.load(large))
        return
    count = max(2, min(args.requests, 1000))  # bounded
    figures = measure(count)
    show(figures, count)
    with open(args.out, "w") as out:
        json.dump(figures, out)


if __name__ == "__main__":
    main()
