#!/usr/bin/env python
"""The customer portal under load: gunicorn (2 workers) and wrk, signed-in contacts.

Run from the project root::

    .venv/bin/python bench/portal_load.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/portal_load.py
    .venv/bin/python bench/portal_load.py --keep               # keep the filled database …
    .venv/bin/python bench/portal_load.py --reuse              # … load it again, no refill

It fills a throw-away database with the sales back-office volume (10,000
customers, 200,000 invoices, 50,000 quotes, 20,000 sales orders, 100,000 time
entries; bench/sales_lists.py's fill), gives the primary contacts of the
customers with the most invoices an active portal access and a signed-in
session, starts gunicorn with 2 sync workers on a free local port, and loads
each page with wrk (--connections 16 by default) from a separate process, the
requests rotating over the contacts' sessions:

- bare: a Django view that returns "ok" through the same middleware, in the same server;
- home, the invoice list and an invoice's page of the portal.

It prints requests/s, p50 and p99 latency, and each page's throughput as a
share of the bare view's. Exits 1 if a target is missed: each portal page at
least a quarter of the bare view's throughput, p99 under 100 ms, no error
answers.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench_database import BASE_DIR, BenchDatabase, setup_django
from customer_list import load_average
from sales_lists import FULL_VOLUME, fill

DATABASE = BenchDatabase(
    sqlite_path=BASE_DIR / "var" / "bench" / "portal_load.sqlite3",
    postgres_name="portico_bench_portal_load",
)
SECRET_KEY = "portal-load-bench-secret-key-not-for-production-0123456789"
TARGET_SHARE_OF_BARE = 0.25
TARGET_P99_MS = 100.0
WRK = "/usr/bin/wrk"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Share of the volume (1.0).")
    parser.add_argument("--duration", type=int, default=15, help="Seconds of load per page (15).")
    parser.add_argument("--connections", type=int, default=16, help="Concurrent clients (16).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2).")
    parser.add_argument("--contacts", type=int, default=16, help="Signed-in contacts (16).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2).")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="Serve with the portal's page cache off: every request renders its page.",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument(
        "--reuse", action="store_true", help="Use the database a --keep run left (no fill)."
    )
    return parser.parse_args()


@dataclass
class Page:
    name: str
    paths: list[str]  # one per contact (the same for pages without an object)


@dataclass
class Result:
    page: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def contacts_sign_in(organization, count: int) -> list[tuple[str, int]]:
    """Active portal accesses for the primary contacts of the customers with
    the most invoices; returns (session cookie, an invoice id) per contact."""
    from django.db.models import Count, Q
    from django.test import Client
    from django.utils import timezone

    from portico.accounts.models import User
    from portico.customers.models import ContactPerson, Customer
    from portico.portal_access.models import AccessStatus, PortalAccess
    from portico.sales.models import Invoice, InvoiceStatus

    customers = (
        Customer.objects.filter(organization=organization)
        .filter(contacts__is_primary=True, contacts__email__gt="")
        .annotate(invoice_count=Count("invoices", filter=~Q(invoices__status="draft")))
        .order_by("-invoice_count", "pk")[:count]
    )
    signed_in = []
    for customer in customers:
        contact = ContactPerson.objects.get(customer=customer, is_primary=True)
        access = PortalAccess.objects.filter(contact=contact).first()
        if access is None or access.status != AccessStatus.ACTIVE:
            user = User.objects.filter(email__iexact=contact.email).first()
            if user is None:
                user = User.objects.create_user(
                    email=contact.email,
                    password="bench-contact-password",
                    full_name=f"{contact.first_name} {contact.last_name}".strip(),
                )
            PortalAccess.objects.update_or_create(
                contact=contact,
                defaults={
                    "organization": organization,
                    "customer": customer,
                    "status": AccessStatus.ACTIVE,
                    "user": user,
                    "invited_at": timezone.now(),
                    "accepted_at": timezone.now(),
                },
            )
        else:
            user = access.user
        invoice = (
            Invoice.objects.filter(organization=organization, customer=customer)
            .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
            .order_by("-date", "-id")
            .first()
        )
        client = Client()
        client.force_login(user)
        signed_in.append((client.cookies["sessionid"].value, invoice.pk))
    return signed_in


def start_server(
    database_url: str, port: int, workers: int, *, page_cache: bool = True
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "portal_load_settings",
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "outbox://",
        **({} if page_cache else {"PORTAL_PAGE_CACHE_SECONDS": "0"}),
        "PYTHONPATH": f"{BASE_DIR / 'bench'}{os.pathsep}{BASE_DIR}",
    }
    # The pages link their CSS through whitenoise's manifest, as in production.
    subprocess.run(
        [str(BASE_DIR / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log = open(BASE_DIR / "var" / "bench" / "portal_load_gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "portal_load_wsgi:application",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=1).read()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(
                    "gunicorn stopped; see var/bench/portal_load_gunicorn.log"
                ) from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def fetch(port: int, path: str, session: str, *, fresh: bool = False) -> int:
    """GET ``path`` as the contact of ``session``; ``fresh``: with a query
    string no request had before, so the page is rendered, not served from
    the page cache."""
    if fresh:
        path = f"{path}?fresh={time.monotonic_ns()}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Cookie": f"sessionid={session}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return response.status


def lua_script(paths: list[str], sessions: list[str]) -> str:
    def lua_list(values):
        return "{" + ", ".join(f'"{value}"' for value in values) + "}"

    # Each request takes the next contact: its session and its path.
    return f"""
local paths = {lua_list(paths)}
local sessions = {lua_list(sessions)}
local counter = 0
request = function()
  counter = counter + 1
  local i = (counter % #paths) + 1
  return wrk.format("GET", paths[i], {{["Cookie"] = "sessionid=" .. sessions[i]}})
end
"""


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port: int, page: Page, sessions: list[str], arguments: argparse.Namespace) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(page.paths, sessions))
    try:
        output = subprocess.run(
            [
                WRK,
                f"--threads={arguments.threads}",
                f"--connections={arguments.connections}",
                f"--duration={arguments.duration}s",
                "--latency",
                f"--script={script.name}",
                f"http://127.0.0.1:{port}/",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: (.*)", output):
        errors += sum(int(n) for n in re.findall(r"\d+", match.group(1)))
    return Result(page.name, rate, p50, p99, errors)


def main() -> int:
    arguments = parse_arguments()
    if not Path(WRK).exists():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    requested_url = os.environ.get("DATABASE_URL", "")
    if arguments.reuse:
        database_url = (
            f"sqlite:///{DATABASE.sqlite_path}"
            if not requested_url.startswith("postgres")
            else requested_url.rsplit("/", 1)[0] + f"/{DATABASE.postgres_name}"
        )
    else:
        database_url = DATABASE.create(requested_url)
    os.environ["SECRET_KEY"] = SECRET_KEY
    setup_django(database_url)

    from django.core.management import call_command
    from django.db import connections
    from django.urls import reverse

    from portico.accounts.models import Organization
    from portico.accounts.services import organization_signup

    server = None
    try:
        call_command("migrate", verbosity=0, interactive=False)
        organization = Organization.objects.filter(name="Bench Traders").first()
        if organization is None:
            organization = organization_signup(
                organization_name="Bench Traders",
                full_name="Bench Owner",
                email="owner@bench.portico.test",
                password="bench-password-not-secret",
            ).organization
            volume = {name: int(count * arguments.scale) for name, count in FULL_VOLUME.items()}
            seconds = fill(organization, volume)
            print(f"Filled {volume} in {seconds:.0f} s")
        print(f"Database: {DATABASE.describe()}")
        contacts = contacts_sign_in(organization, arguments.contacts)
        connections.close_all()
        sessions = [session for session, _invoice in contacts]

        def portal(name: str, **kwargs) -> str:
            return reverse(
                f"portal:{name}", kwargs={"portal_name": organization.portal_name, **kwargs}
            )

        pages = [
            Page("bare view", ["/bench/bare/"] * len(contacts)),
            Page("portal home", [portal("home")] * len(contacts)),
            Page("invoice list", [portal("invoice_list")] * len(contacts)),
            Page(
                "invoice detail",
                [portal("invoice_detail", pk=invoice_id) for _session, invoice_id in contacts],
            ),
        ]
        port = free_port()
        server = start_server(
            database_url, port, arguments.workers, page_cache=not arguments.no_page_cache
        )
        # Each session's first portal request records the sign-in; and every
        # page must answer 200 before it is measured. These first requests
        # render their page (nothing is cached yet): their times are printed.
        for page in pages:
            for path, session in zip(page.paths, sessions, strict=True):
                fetch(port, path, session)
        first_views = {}
        for page in pages:
            times = []
            for path, session in zip(page.paths, sessions, strict=True):
                started = time.perf_counter()
                status = fetch(port, path, session, fresh=True)
                times.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise SystemExit(f"GET {path} answered {status}")
            first_views[page.name] = sorted(times)
        print(
            f"gunicorn: {arguments.workers} sync workers; wrk: {arguments.threads} threads, "
            f"{arguments.connections} connections, {arguments.duration} s per page, "
            f"{len(contacts)} signed-in contacts"
        )
        print("Page cache: " + ("off (every request renders)" if arguments.no_page_cache else "on"))
        print(f"Load average at start: {load_average()} ({os.cpu_count()} CPUs)")
        results = [run_wrk(port, page, sessions, arguments) for page in pages]
        print(f"Load average at end: {load_average()}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        connections.close_all()
        if arguments.keep or arguments.reuse:
            print(f"Kept the bench database: {database_url}")
        else:
            DATABASE.drop(requested_url)

    bare = results[0].requests_per_second
    print()
    print("Rendered (a first view, one request at a time, through gunicorn):")
    for name, times in first_views.items():
        if name != "bare view":
            print(f"  {name:<16} median {times[len(times) // 2]:6.1f} ms, max {times[-1]:6.1f} ms")
    print()
    header = (
        f"{'page':<16} {'requests/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'of bare':>8} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    missed = []
    for result in results:
        share = result.requests_per_second / bare
        print(
            f"{result.page:<16} {result.requests_per_second:>10.0f} {result.p50_ms:>8.1f} "
            f"{result.p99_ms:>8.1f} {share:>8.2f} {result.errors:>7}"
        )
        if result.errors:
            missed.append(f"{result.page}: {result.errors} error answers")
        if result is results[0]:
            continue
        if share < TARGET_SHARE_OF_BARE:
            missed.append(f"{result.page}: {share:.2f} of the bare view's throughput")
        if result.p99_ms >= TARGET_P99_MS:
            missed.append(f"{result.page}: p99 {result.p99_ms:.1f} ms")
    print()
    if missed:
        for line in missed:
            print(f"Target missed: {line}", file=sys.stderr)
        return 1
    print(
        f"Targets met: every portal page ≥ {TARGET_SHARE_OF_BARE} of the bare view's throughput, "
        f"p99 < {TARGET_P99_MS:.0f} ms at {arguments.connections} connections."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
