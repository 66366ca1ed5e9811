#!/usr/bin/env python
"""The staff customer list at growing sizes: server time and SQL queries per request.

Run from the project root::

    .venv/bin/python bench/customer_list.py [--sizes 1000,100000] [--requests 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/customer_list.py

It never touches the development database: SQLite runs use a fresh file,
var/bench/customer_list.sqlite3; with a PostgreSQL ``DATABASE_URL`` it
drops and creates a ``portico_bench`` database on that server. Exits 1 when
a page's query count changes with the number of customers.
"""

import argparse
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlencode

from bench_database import BASE_DIR, BenchDatabase, setup_django

DATABASE = BenchDatabase(
    sqlite_path=BASE_DIR / "var" / "bench" / "customer_list.sqlite3",
    postgres_name="portico_bench",
)
WARMUP_REQUESTS = 2
COMMON_SEARCH = "smith"  # a surname: hundreds of matches at 100,000 customers


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,100000",
        help="Customer counts to measure at, ascending, comma-separated (default 1000,100000).",
    )
    parser.add_argument(
        "--requests", type=int, default=20, help="Timed requests per page (default 20)."
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="Print the query plans of the customer queries at the largest size.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the bench database afterwards (to explore it)."
    )
    arguments = parser.parse_args()
    arguments.sizes = [int(size.replace("_", "")) for size in arguments.sizes.split(",")]
    if arguments.sizes != sorted(arguments.sizes) or arguments.sizes[0] < 1:
        parser.error("--sizes must be positive and ascending: the database grows between them")
    if arguments.requests < 1:
        parser.error("--requests must be at least 1")
    return arguments


@dataclass
class Measurement:
    size: int
    variant: str
    url: str
    matches: int
    median_ms: float
    p95_ms: float
    queries: int
    captured: list


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with 20 samples, p95 is the 19th fastest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def page_variants(organization) -> list[tuple[str, str, object]]:
    """(name, URL, filters) of each page measured; depends on the current data."""
    from portico.customers.models import Customer
    from portico.customers.selectors import CustomerFilters
    from portico.customers.views import PAGE_SIZE

    active = Customer.objects.filter(organization=organization, is_active=True).count()
    deep_page = max(1, math.ceil(active / PAGE_SIZE) // 2)
    one_email = (
        Customer.objects.filter(organization=organization, is_active=True)
        .order_by("-id")
        .values_list("email", flat=True)
        .first()
    )
    return [
        ("first page", "", CustomerFilters()),
        ("search, many matches", f"q={COMMON_SEARCH}", CustomerFilters(q=COMMON_SEARCH)),
        ("search, one e-mail", urlencode({"q": one_email}), CustomerFilters(q=one_email)),
        ("middle page", f"page={deep_page}", CustomerFilters()),
        ("newest first", "sort=-created", CustomerFilters(sort="-created")),
        ("by company", "sort=company", CustomerFilters(sort="company")),
    ]


def measure(client, *, size: int, organization, requests: int) -> list[Measurement]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portico.customers.selectors import customer_list

    results = []
    for name, query, filters in page_variants(organization):
        url = "/app/customers/" + (f"?{query}" if query else "")
        for _ in range(WARMUP_REQUESTS):
            check_response(client.get(url), url)
        # Queries are counted on a separate request: capturing adds its own overhead.
        with CaptureQueriesContext(connection) as capture:
            check_response(client.get(url), url)
        # Copy now: the next request's request_started signal clears the query log.
        captured = list(capture.captured_queries)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            check_response(response, url)
        results.append(
            Measurement(
                size=size,
                variant=name,
                url=url,
                matches=customer_list(organization=organization, filters=filters).count(),
                median_ms=statistics.median(samples),
                p95_ms=percentile(samples, 0.95),
                queries=len(captured),
                captured=captured,
            )
        )
    return results


def check_response(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, not 200")


def explain(measurements: list[Measurement]) -> None:
    from django.db import connection

    print()
    for measurement in measurements:
        print(f"== {measurement.variant} at {measurement.size:,}: {measurement.url}")
        for query in measurement.captured:
            sql = query["sql"]
            if "customers_customer" not in sql:
                continue
            print(f"-- {query['time']} s  {sql[:300]}{'…' if len(sql) > 300 else ''}")
            prefix = (
                "EXPLAIN (ANALYZE, BUFFERS) "
                if connection.vendor == "postgresql"
                else "EXPLAIN QUERY PLAN "
            )
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql)
                for row in cursor.fetchall():
                    print("   ", row[-1])
        print()


def load_average() -> str:
    """Other work on the machine skews timings; say how busy it was."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def print_table(measurements: list[Measurement]) -> None:
    header = (
        f"{'customers':>9}  {'page':<22} {'query string':<38} {'matches':>7} "
        f"{'median ms':>9} {'p95 ms':>7} {'queries':>7}"
    )
    print(header)
    print("-" * len(header))
    for m in measurements:
        query = unquote(m.url.partition("?")[2]) or "-"
        print(
            f"{m.size:>9,}  {m.variant:<22} {query[:38]:<38} {m.matches:>7,} "
            f"{m.median_ms:>9.1f} {m.p95_ms:>7.1f} {m.queries:>7}"
        )


def query_count_changes(measurements: list[Measurement]) -> list[str]:
    """Pages whose query count differs from the one at the smallest size."""
    first_size = measurements[0].size
    baseline = {m.variant: m.queries for m in measurements if m.size == first_size}
    return [
        f"{m.variant}: {baseline[m.variant]} queries at {first_size:,} customers, "
        f"{m.queries} at {m.size:,}"
        for m in measurements
        if m.queries != baseline[m.variant]
    ]


def main() -> int:
    arguments = parse_arguments()
    requested_url = os.environ.get("DATABASE_URL", "")
    database_url = DATABASE.create(requested_url)
    setup_django(database_url)

    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from portico.accounts.services import organization_signup
    from portico.customers.models import Customer

    try:
        call_command("migrate", verbosity=0, interactive=False)
        membership = organization_signup(
            organization_name="Bench Traders",
            full_name="Bench Owner",
            email="owner@bench.portico.test",
            password="bench-password-not-secret",
        )
        organization = membership.organization
        client = Client()
        client.force_login(membership.user)
        print(f"Database: {DATABASE.describe()}")
        print(f"{arguments.requests} timed requests per page after {WARMUP_REQUESTS} warm-ups")
        print(f"Load average at start: {load_average()} ({os.cpu_count()} CPUs)")

        measurements: list[Measurement] = []
        for size in arguments.sizes:
            missing = size - Customer.objects.filter(organization=organization).count()
            if missing > 0:
                call_command(
                    "bench_generate_customers",
                    organization=organization.portal_name,
                    count=missing,
                    force=True,
                    seed="bench",
                )
            measurements += measure(
                client, size=size, organization=organization, requests=arguments.requests
            )

        print(f"Load average at end: {load_average()}")
        print()
        print_table(measurements)
        if arguments.explain:
            explain([m for m in measurements if m.size == arguments.sizes[-1]])
        problems = query_count_changes(measurements)
        if problems:
            print("\nQuery count changes with the number of customers:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(
            f"\nQuery counts are the same at every size ({', '.join(map(str, arguments.sizes))})."
        )
        return 0
    finally:
        connections.close_all()
        if not arguments.keep:
            DATABASE.drop(requested_url)
        else:
            print(f"Kept the bench database: {database_url}")


if __name__ == "__main__":
    sys.exit(main())
