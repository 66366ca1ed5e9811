"""Browser-test fixtures: Playwright's sync API driving Debian's Chromium.

Registered for the whole suite from the root ``conftest.py``. A browser test is
marked ``@pytest.mark.browser`` and ``@pytest.mark.django_db(transaction=True)``
(the server runs in another thread, so test data must be committed) and asks
for ``page`` or ``staff_page``; relative URLs go to pytest-django's
``live_server``.

Chromium is not downloaded by Playwright: the system's is launched. Without
it the tests are skipped, unless ``PORTICO_REQUIRE_BROWSER=1`` (CI), where a
skipped browser test would hide a broken journey, so they fail instead.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM_PATH = os.environ.get("PORTICO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
# Long enough for a slow CI machine, short enough that a wrong locator fails fast.
TIMEOUT_MS = 10_000
ARTIFACTS_DIR = "test-artifacts"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run browser tests after all others (keeping pytest-django's order otherwise).

    Once Playwright starts, an asyncio loop runs in the test thread until the
    session ends; any later test using ``async_to_sync`` or the ORM would trip on it.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so ``page`` can see a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Assertions wait as long as actions do: on a loaded CI machine a form post that
# writes notifications and e-mails can take longer than Playwright's default 5 s.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM_PATH).exists():
        reason = f"Chromium not found at {CHROMIUM_PATH}; browser tests need it"
        if os.environ.get("PORTICO_REQUIRE_BROWSER") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)

    # The sync API keeps an asyncio loop running in the test thread, so Django
    # would refuse the ORM calls that tests and pytest-django's teardown make.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(request, browser, live_server) -> Iterator[Page]:
    """A fresh browser context per test; a screenshot lands in test-artifacts/ on failure
    (of the test or of a fixture built on it, such as signing in).

    An uncaught JavaScript error on any page fails the test at teardown.
    """
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    browser_page = context.new_page()
    script_errors: list[str] = []
    browser_page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield browser_page
    reports = (getattr(request.node, f"report_{when}", None) for when in ("setup", "call"))
    if any(report is not None and report.failed for report in reports):
        directory = request.config.rootpath / ARTIFACTS_DIR
        directory.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_")
        browser_page.screenshot(path=directory / f"{name}.png", full_page=True)
    context.close()
    assert not script_errors, f"JavaScript errors: {script_errors}"


def sign_in(page: Page, *, email: str, password: str) -> None:
    """Sign in through the real sign-in form, as a person would."""
    page.goto("/sign-in/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()


@pytest.fixture
def staff_page(page, membership, password) -> Page:
    """``page``, signed in as the owner of ``organization`` (root conftest fixtures)."""
    sign_in(page, email=membership.user.email, password=password)
    return page


def ada_portal_access(customer, *, full_name: str = "Ada Lovelace"):
    """Ada Lovelace, a contact of ``customer`` with an active portal access
    (she signs in with ada@engines.example and the suite's test password)."""
    from portico.portal_access.tests.factories import PortalAccessFactory

    access = PortalAccessFactory(
        active=True,
        contact__customer=customer,
        contact__first_name="Ada",
        contact__last_name="Lovelace",
        contact__email="ada@engines.example",
    )
    access.user.full_name = full_name
    access.user.save(update_fields=["full_name"])
    return access


@pytest.fixture
def open_portal(browser: Browser, live_server, access, password) -> Iterator[Callable[..., Page]]:
    """``open_portal(viewport=…)``: a new browser context where the test's
    ``access`` contact signs in to the portal through its sign-in form; closed
    (and checked for JavaScript errors) after the test."""
    contexts = []
    script_errors: list[str] = []

    def open_(*, viewport=VIEWPORT) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        page.goto(f"/portal/{access.organization.portal_name}/sign-in/")
        page.get_by_label("E-mail").fill(access.contact.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        welcome = f"Welcome, {access.contact.first_name}"
        expect(page.get_by_role("heading", name=welcome)).to_be_visible()
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not script_errors, f"JavaScript errors in the portal: {script_errors}"
