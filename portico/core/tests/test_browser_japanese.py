"""Issue 8's journeys in Chromium: a Japanese customer's invitation, portal and
language switch; a Japanese staff member following the seed's steps with the
reference product's Japanese labels."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCEPT_LINK = re.compile(r"https?://[^\s\"<>]+/accept/[^\s\"<>]+/")


def run_worker() -> None:
    import signal

    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
        )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def test_japanese_staff_invite_a_japanese_customer_who_switches_to_english(
    staff_page: Page,
    browser,
    live_server,
    membership,
    organization,
    settings,
    smtp_server,  # noqa: F811
):
    settings.SITE_URL = live_server.url
    staff = staff_page
    membership.user.language = "ja"
    membership.user.save(update_fields=["language"])

    # The staff member, in Japanese: 売上 → 顧客 → + 新規, その他の詳細, ポータルの言語
    staff.goto("/app/")
    expect(staff.locator("html")).to_have_attribute("lang", "ja")
    expect(staff.get_by_text("売上").first).to_be_visible()
    staff.get_by_role("link", name="顧客").first.click()
    staff.get_by_role("link", name=re.compile("新規")).first.click()
    expect(staff.get_by_text("その他の詳細").first).to_be_visible()
    expect(staff.get_by_text("ポータルの言語").first).to_be_visible()
    expect(staff.get_by_text("この顧客によるポータルへのアクセスを許可する").first).to_be_visible()
    expect(staff.get_by_role("button", name="保存する").first).to_be_visible()

    # A customer whose portal language is Japanese, with its contact person
    customer = CustomerFactory(
        organization=organization, display_name="山田商事", portal_language="ja"
    )
    ContactPersonFactory(
        customer=customer,
        first_name="太郎",
        last_name="山田",
        email="taro@yamada.example",
        is_primary=True,
    )

    # 概要 → 詳細を表示する → 顧客用ポータルの設定 → tick → 保存する
    staff.goto(f"/app/customers/{customer.pk}/")
    expect(staff.get_by_role("link", name="概要")).to_be_visible()
    expect(
        staff.get_by_role("button", name="編集する")
        .or_(staff.get_by_role("link", name="編集する"))
        .first
    ).to_be_visible()
    staff.get_by_role("button", name="詳細を表示する").click()
    staff.get_by_role("link", name="顧客用ポータルの設定").click()
    dialog = staff.get_by_role("dialog", name="顧客用ポータルの設定")
    dialog.get_by_label(re.compile("山田")).check()
    dialog.get_by_role("button", name="保存する").click()
    expect(staff.get_by_text(re.compile("招待済み|招待中")).first).to_be_visible()

    # The customers list's bulk menu: その他 with 一括操作 and ポータルを有効にする
    staff.goto("/app/customers/")
    staff.locator("input[type=checkbox][name=ids]").first.check()
    staff.get_by_role("button", name="その他").click()
    expect(staff.get_by_text("一括操作")).to_be_visible()
    expect(staff.get_by_role("button", name="ポータルを有効にする")).to_be_visible()

    # The invitation arrives in Japanese through a real SMTP server
    run_worker()
    (message,) = [m for m in smtp_server.received if m.rcpt_tos == ("taro@yamada.example",)]
    html = message.body("text/html")
    assert "招待を承認する" in html
    accept_url = ACCEPT_LINK.search(message.body("text/plain")).group(0)

    # The contact accepts it and sees the portal in Japanese
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    portal = context.new_page()
    try:
        portal.goto(accept_url)
        expect(portal.locator("html")).to_have_attribute("lang", "ja")
        expect(portal.get_by_role("heading", name="招待を承認する")).to_be_visible()
        password_fields = portal.locator("input[type=password]")
        password_fields.nth(0).fill("sunny-portal-2026")
        password_fields.nth(1).fill("sunny-portal-2026")
        portal.get_by_role("button", name="招待を承認する").click()
        expect(portal.locator("html")).to_have_attribute("lang", "ja")
        expect(portal.get_by_role("link", name=re.compile("ホーム")).first).to_be_visible()

        # and switches to English in the footer
        footer = portal.locator("footer")
        footer.locator("select").select_option("en")
        footer.get_by_role("button").click()
        expect(portal.locator("html")).to_have_attribute("lang", "en")
        expect(portal.get_by_role("link", name=re.compile("Home")).first).to_be_visible()
    finally:
        context.close()
