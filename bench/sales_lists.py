#!/usr/bin/env python
"""The staff sales lists at a realistic volume: server time and SQL queries per request.

Run from the project root::

    .venv/bin/python bench/sales_lists.py [--requests 10] [--scale 1.0]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/sales_lists.py

It fills a fresh bench database (never the development one; see
customer_list.py) twice: first with 1% of the volume, then with the full
volume of issue 3 — 10,000 customers, 200,000 invoices, 50,000 quotes,
20,000 sales orders, 100,000 time entries (and a payment per paid invoice) —
and measures every list page at both. Exits 1 when a page's query count
changes with the volume.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass

from bench_database import BASE_DIR, BenchDatabase, setup_django
from customer_list import WARMUP_REQUESTS, load_average, percentile

# The same bench database as customer_list.py: one is dropped before the other starts.
DATABASE = BenchDatabase(
    sqlite_path=BASE_DIR / "var" / "bench" / "customer_list.sqlite3",
    postgres_name="portico_bench",
)

FULL_VOLUME = {
    "customers": 10_000,
    "invoices": 200_000,
    "quotes": 50_000,
    "sales_orders": 20_000,
    "time_entries": 100_000,
}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10, help="Timed requests per page.")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Fraction of the full volume (default 1.0)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the bench database afterwards.")
    return parser.parse_args()


@dataclass
class Measurement:
    level: str
    page: str
    url: str
    median_ms: float
    p95_ms: float
    queries: int


def pages(organization) -> list[tuple[str, str]]:
    from portico.customers.models import Customer
    from portico.projects.models import Project

    busiest_customer = (
        Customer.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    busiest_project = (
        Project.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return [
        ("quotes", "/app/quotes/"),
        ("quotes: search", "/app/quotes/?q=PO-1"),
        ("quotes: expired", "/app/quotes/?status=expired"),
        ("sales orders", "/app/sales-orders/"),
        ("invoices", "/app/invoices/"),
        ("invoices: overdue", "/app/invoices/?status=overdue"),
        ("invoices: search", "/app/invoices/?q=INV-0012"),
        ("invoices: page 1000", "/app/invoices/?page=1000"),
        ("invoices: by total", "/app/invoices/?sort=-total"),
        ("payments", "/app/payments/"),
        ("credit notes", "/app/credit-notes/"),
        ("projects", "/app/projects/"),
        ("project timesheet", f"/app/projects/{busiest_project}/"),
        ("customer overview", f"/app/customers/{busiest_customer}/"),
        ("items", "/app/items/"),
    ]


def measure(client, *, level: str, organization, requests: int) -> list[Measurement]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for name, url in pages(organization):
        for _ in range(WARMUP_REQUESTS):
            check(client.get(url), url)
        with CaptureQueriesContext(connection) as capture:
            check(client.get(url), url)
        queries = len(capture.captured_queries)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            check(client.get(url), url)
            samples.append((time.perf_counter() - started) * 1000)
        results.append(
            Measurement(
                level=level,
                page=name,
                url=url,
                median_ms=statistics.median(samples),
                p95_ms=percentile(samples, 0.95),
                queries=queries,
            )
        )
    return results


def check(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, not 200")


def fill(organization, volume: dict[str, int]) -> float:
    from django.core.management import call_command

    from portico.customers.models import Customer

    started = time.perf_counter()
    missing = volume["customers"] - Customer.objects.filter(organization=organization).count()
    if missing > 0:
        call_command(
            "bench_generate_customers",
            organization=organization.portal_name,
            count=missing,
            force=True,
            seed="bench",
            verbosity=0,
        )
    call_command(
        "bench_generate_sales",
        organization=organization.portal_name,
        invoices=volume["invoices"],
        quotes=volume["quotes"],
        sales_orders=volume["sales_orders"],
        time_entries=volume["time_entries"],
        force=True,
        seed=f"bench-{volume['invoices']}",
        verbosity=1,
    )
    return time.perf_counter() - started


def main() -> int:
    arguments = parse_arguments()
    requested_url = os.environ.get("DATABASE_URL", "")
    database_url = DATABASE.create(requested_url)
    setup_django(database_url)

    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from portico.accounts.services import organization_signup

    full = {name: int(count * arguments.scale) for name, count in FULL_VOLUME.items()}
    small = {name: max(count // 100, 1) for name, count in full.items()}
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
        for level, volume in (("1%", small), ("100%", full)):
            # The second fill adds the difference, so the full level holds `full`.
            step = {
                name: count - (small[name] if level == "100%" else 0)
                for name, count in volume.items()
            }
            step["customers"] = volume["customers"]
            seconds = fill(organization, step)
            print(f"Filled to {level} of the volume ({volume}) in {seconds:.0f} s")
            measurements += measure(
                client, level=level, organization=organization, requests=arguments.requests
            )
        print(f"Load average at end: {load_average()}")
        print()
        header = (
            f"{'volume':>6}  {'page':<22} {'url':<34} {'median ms':>9} {'p95 ms':>7} {'queries':>7}"
        )
        print(header)
        print("-" * len(header))
        for m in measurements:
            print(
                f"{m.level:>6}  {m.page:<22} {m.url[:34]:<34} {m.median_ms:>9.1f} "
                f"{m.p95_ms:>7.1f} {m.queries:>7}"
            )
        baseline = {m.page: m.queries for m in measurements if m.level == "1%"}
        changes = [m for m in measurements if m.queries != baseline[m.page]]
        if changes:
            for m in changes:
                print(
                    f"Query count of {m.page} changed: {baseline[m.page]} → {m.queries}",
                    file=sys.stderr,
                )
            return 1
        print("\nQuery counts are the same at 1% and 100% of the volume.")
        return 0
    finally:
        connections.close_all()
        if not arguments.keep:
            DATABASE.drop(requested_url)
        else:
            print(f"Kept the bench database: {database_url}")


if __name__ == "__main__":
    sys.exit(main())
