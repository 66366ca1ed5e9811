"""TOTP two-factor authentication (RFC 6238) with recovery codes."""

import base64
from datetime import UTC, datetime

import pytest

from portico.accounts.tests.factories import TEST_PASSWORD
from portico.portal_access.models import RecoveryCode, TwoFactorDevice
from portico.portal_access.tests.factories import PortalSettingsFactory
from portico.portal_access.two_factor import (
    hotp_code,
    recovery_code_hash,
    totp_code,
    totp_match_step,
    totp_provisioning_uri,
    totp_step,
    two_factor_device_confirm,
    two_factor_device_start,
)

# --- the arithmetic: RFC test vectors -------------------------------------------------

RFC_KEY = b"12345678901234567890"


@pytest.mark.parametrize(
    ("counter", "code"),
    list(
        enumerate(
            ["755224", "287082", "359152", "969429", "338314"]
            + ["254676", "287922", "162583", "399871", "520489"]
        )
    ),
)
def test_hotp_matches_rfc_4226_appendix_d(counter, code):
    assert hotp_code(key=RFC_KEY, counter=counter) == code


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_matches_rfc_6238_appendix_b_sha1(unix_time, code):
    secret = base64.b32encode(RFC_KEY).decode()

    step = totp_step(at=unix_time)

    assert totp_code(secret=secret, step=step, digits=8) == code
    assert hotp_code(key=RFC_KEY, counter=step, digits=8) == code


def test_a_code_of_the_previous_or_next_step_is_accepted_but_not_further():
    secret = base64.b32encode(RFC_KEY).decode()
    now = 1000

    for offset, accepted in [(-2, False), (-1, True), (0, True), (1, True), (2, False)]:
        code = totp_code(secret=secret, step=now + offset)
        assert (totp_match_step(secret=secret, code=code, now_step=now) == now + offset) is accepted


def test_a_code_may_carry_spaces_and_garbage_is_refused():
    secret = base64.b32encode(RFC_KEY).decode()
    code = totp_code(secret=secret, step=7)

    assert totp_match_step(secret=secret, code=f"{code[:3]} {code[3:]}", now_step=7) == 7
    assert totp_match_step(secret=secret, code="abcdef", now_step=7) is None
    assert totp_match_step(secret=secret, code="", now_step=7) is None


def test_the_provisioning_uri_names_the_issuer_and_the_account():
    uri = totp_provisioning_uri(secret="ABC", account="ada@example.com", issuer="Acme & Co")

    assert uri.startswith("otpauth://totp/Acme%20%26%20Co:ada@example.com?")
    assert "secret=ABC" in uri and "issuer=Acme%20%26%20Co" in uri and "period=30" in uri


# --- helpers for the flows ----------------------------------------------------------------


def _current_code(user, clock, *, steps_ahead: int = 0) -> str:
    device = TwoFactorDevice.objects.get(user=user)
    return totp_code(secret=device.secret, step=totp_step(at=clock.now.timestamp()) + steps_ahead)


@pytest.fixture
def two_factor_user(portal_user, clock):
    """The contact with a confirmed device; returns their recovery codes."""
    device = two_factor_device_start(user=portal_user)
    codes = two_factor_device_confirm(
        user=portal_user,
        code=totp_code(secret=device.secret, step=totp_step(at=clock.now.timestamp())),
    )
    clock.advance(seconds=30)  # the confirming code is used; wait for the next one
    return codes


def _password_step(client, access, portal_reverse):
    return client.post(
        portal_reverse(access.organization, "portal:sign_in"),
        {"email": access.user.email, "password": TEST_PASSWORD},
    )


# --- set-up ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_setting_up_shows_a_qr_code_then_ten_recovery_codes_once(
    portal_client, portal_access, portal_user, portal_reverse, clock
):
    setup = portal_reverse(portal_access.organization, "portal:two_factor_setup")

    # when the contact opens the set-up page
    page = portal_client.get(setup)
    device = TwoFactorDevice.objects.get(user=portal_user)

    # then it shows the QR code and the key, and the device waits for a code
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and device.secret[:4] in html
    assert device.confirmed_at is None

    # when a wrong code, then the right one, is entered
    wrong = portal_client.post(setup, {"code": "000000"})
    response = portal_client.post(setup, {"code": _current_code(portal_user, clock)})

    # then the device is on and ten recovery codes are shown, stored only as hashes
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert device.confirmed_at is not None
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=portal_user).values_list("code_hash", flat=True))
    assert stored == {recovery_code_hash(code) for code in codes}
    assert not any(code in stored for code in codes)
    # and a second visit does not show them again
    assert portal_client.get(setup).status_code == 302


# --- the sign-in's second step ---------------------------------------------------------------


@pytest.mark.django_db
def test_signing_in_with_a_device_asks_for_a_code(
    client, portal_access, portal_reverse, clock, two_factor_user
):
    organization = portal_access.organization
    home = portal_reverse(organization, "portal:home")

    # when the contact gives the right password
    _password_step(client, portal_access, portal_reverse)
    blocked = client.get(home)

    # then the portal asks for the code before anything else
    verify = portal_reverse(organization, "portal:two_factor_verify")
    assert blocked.status_code == 302
    assert blocked["Location"].startswith(verify)

    # when they enter the code of this moment
    response = client.post(verify, {"code": _current_code(portal_access.user, clock), "next": home})

    # then they are in
    assert response.status_code == 302 and response["Location"] == home
    assert client.get(home).status_code == 200
    portal_access.refresh_from_db()
    assert portal_access.last_login_at is not None


@pytest.mark.django_db
def test_a_code_cannot_be_replayed(client, portal_access, portal_reverse, clock, two_factor_user):
    organization = portal_access.organization
    verify = portal_reverse(organization, "portal:two_factor_verify")
    code = _current_code(portal_access.user, clock)
    _password_step(client, portal_access, portal_reverse)
    assert client.post(verify, {"code": code}).status_code == 302

    # when someone signs in again within the same 30 seconds with the same code
    client.post(portal_reverse(organization, "portal:sign_out"))
    _password_step(client, portal_access, portal_reverse)
    replay = client.post(verify, {"code": code})

    # then it is refused, and only the next code works
    assert replay.status_code == 200
    assert "already used" in replay.content.decode()
    assert client.get(portal_reverse(organization, "portal:home")).status_code == 302
    clock.advance(seconds=30)
    assert (
        client.post(verify, {"code": _current_code(portal_access.user, clock)}).status_code == 302
    )


@pytest.mark.django_db
def test_a_recovery_code_works_once(client, portal_access, portal_reverse, clock, two_factor_user):
    organization = portal_access.organization
    verify = portal_reverse(organization, "portal:two_factor_verify")
    recovery = two_factor_user[0]

    _password_step(client, portal_access, portal_reverse)
    first = client.post(verify, {"code": recovery.upper()})
    client.post(portal_reverse(organization, "portal:sign_out"))
    _password_step(client, portal_access, portal_reverse)
    second = client.post(verify, {"code": recovery})

    assert first.status_code == 302
    assert second.status_code == 200
    assert "That code is not right" in second.content.decode()
    assert RecoveryCode.objects.filter(user=portal_access.user, used_at__isnull=True).count() == 9


@pytest.mark.django_db
def test_wrong_codes_are_throttled(client, portal_access, portal_reverse, clock, two_factor_user):
    verify = portal_reverse(portal_access.organization, "portal:two_factor_verify")
    _password_step(client, portal_access, portal_reverse)
    for _attempt in range(3):
        client.post(verify, {"code": "000000"})

    response = client.post(verify, {"code": _current_code(portal_access.user, clock)})

    assert response.status_code == 429
    assert client.get(portal_reverse(portal_access.organization, "portal:home")).status_code == 302


@pytest.mark.django_db
def test_a_staff_session_must_pass_the_code_before_the_portal(
    client, portal_access, portal_reverse, clock, two_factor_user
):
    # given the person signed in elsewhere (the staff side) without a code
    client.force_login(portal_access.user)

    response = client.get(portal_reverse(portal_access.organization, "portal:home"))

    assert response["Location"].startswith(
        portal_reverse(portal_access.organization, "portal:two_factor_verify")
    )


# --- required by the organisation ---------------------------------------------------------------


@pytest.mark.django_db
def test_an_organisation_that_requires_it_sends_a_contact_without_a_device_to_set_up(
    client, portal_access, portal_reverse, clock
):
    organization = portal_access.organization
    PortalSettingsFactory(organization=organization, require_two_factor=True)
    home = portal_reverse(organization, "portal:home")
    setup = portal_reverse(organization, "portal:two_factor_setup")

    # when the contact signs in with the password
    _password_step(client, portal_access, portal_reverse)
    response = client.get(home)

    # then set-up comes first, and the portal stays closed until it is done
    assert response.status_code == 302 and response["Location"].startswith(setup)
    page = client.get(response["Location"])
    assert "requires two-factor authentication" in page.content.decode()
    assert client.get(portal_reverse(organization, "portal:password_change")).status_code == 302
    done = client.post(setup, {"code": _current_code(portal_access.user, clock), "next": home})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert client.get(home).status_code == 200


@pytest.mark.django_db
def test_two_factor_cannot_be_turned_off_where_it_is_required(
    client, portal_access, portal_reverse, clock, two_factor_user
):
    organization = portal_access.organization
    PortalSettingsFactory(organization=organization, require_two_factor=True)
    _password_step(client, portal_access, portal_reverse)
    client.post(
        portal_reverse(organization, "portal:two_factor_verify"),
        {"code": _current_code(portal_access.user, clock)},
    )

    response = client.post(
        portal_reverse(organization, "portal:two_factor_disable"), {"password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert TwoFactorDevice.objects.filter(user=portal_access.user).exists()


@pytest.mark.django_db
def test_turning_it_off_needs_the_password(
    client, portal_access, portal_reverse, clock, two_factor_user
):
    organization = portal_access.organization
    _password_step(client, portal_access, portal_reverse)
    client.post(
        portal_reverse(organization, "portal:two_factor_verify"),
        {"code": _current_code(portal_access.user, clock)},
    )
    disable = portal_reverse(organization, "portal:two_factor_disable")

    wrong = client.post(disable, {"password": "nope"})
    assert TwoFactorDevice.objects.filter(user=portal_access.user).exists()
    right = client.post(disable, {"password": TEST_PASSWORD})

    assert wrong.status_code == 200
    assert right.status_code == 302
    assert not TwoFactorDevice.objects.filter(user=portal_access.user).exists()
    assert not RecoveryCode.objects.filter(user=portal_access.user).exists()


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones(
    client, portal_access, portal_reverse, clock, two_factor_user
):
    organization = portal_access.organization
    _password_step(client, portal_access, portal_reverse)
    client.post(
        portal_reverse(organization, "portal:two_factor_verify"),
        {"code": _current_code(portal_access.user, clock)},
    )

    response = client.post(
        portal_reverse(organization, "portal:two_factor_recovery_codes"),
        {"password": TEST_PASSWORD},
    )

    new_codes = response.context["codes"]
    hashes = set(
        RecoveryCode.objects.filter(user=portal_access.user).values_list("code_hash", flat=True)
    )
    assert hashes == {recovery_code_hash(code) for code in new_codes}
    assert recovery_code_hash(two_factor_user[0]) not in hashes


def test_the_time_step_is_thirty_seconds_of_unix_time():
    moment = datetime(2005, 3, 18, 1, 58, 29, tzinfo=UTC)  # RFC 6238: 1111111109

    assert totp_step(at=moment.timestamp()) == 1111111109 // 30
