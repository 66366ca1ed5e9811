"""Two-factor authentication for portal users: TOTP (RFC 6238) and recovery codes.

The TOTP arithmetic is RFC 4226's HOTP over a 30-second time step, written
with the standard library (hmac, hashlib, base64, struct). A device becomes
usable once its owner confirms it with a code; from then on every code is
single use (``last_used_step``), and ten single-use recovery codes, stored
only as hashes, stand in when the phone is lost.
"""

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import User
from portico.core.errors import PorticoError
from portico.portal_access.models import RecoveryCode, TwoFactorDevice

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# Codes of the previous and the next time step are accepted too (clock drift).
TOTP_WINDOW_STEPS = 1
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommended length for HMAC-SHA1
RECOVERY_CODE_COUNT = 10
# Recovery codes: 10 characters from an alphabet without look-alikes (0/o, 1/l/i),
# about 50 bits each, shown as xxxxx-xxxxx.
RECOVERY_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10

_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class TwoFactorError(PorticoError):
    """A two-factor step that cannot go ahead (wrong code, no device …)."""


# --- RFC 6238 arithmetic (pure functions) ----------------------------------------


def totp_secret_generate() -> str:
    """A fresh random secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp_code(
    *, key: bytes, counter: int, digits: int = TOTP_DIGITS, algorithm: str = "sha1"
) -> str:
    """RFC 4226 section 5.3: HMAC the 8-byte counter, dynamically truncate."""
    digest = hmac.new(key, struct.pack(">Q", counter), _DIGESTS[algorithm]).digest()
    offset = digest[-1] & 0x0F
    (number,) = struct.unpack(">I", digest[offset : offset + 4])
    return str((number & 0x7FFFFFFF) % 10**digits).zfill(digits)


def totp_step(*, at: float | None = None) -> int:
    """The RFC 6238 time step (T) of a Unix time, now by default."""
    if at is None:
        at = timezone.now().timestamp()
    return int(at // TOTP_STEP_SECONDS)


def totp_code(*, secret: str, step: int, digits: int = TOTP_DIGITS) -> str:
    """The code an authenticator app shows for ``secret`` during time step ``step``."""
    return hotp_code(key=_secret_bytes(secret), counter=step, digits=digits)


def totp_match_step(*, secret: str, code: str, now_step: int | None = None) -> int | None:
    """The time step within the window whose code is ``code``, or None."""
    code = _normalise_totp(code)
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    now_step = totp_step() if now_step is None else now_step
    key = _secret_bytes(secret)
    match = None
    # Compare every candidate in constant time; do not stop at the first.
    for step in range(now_step - TOTP_WINDOW_STEPS, now_step + TOTP_WINDOW_STEPS + 1):
        if hmac.compare_digest(hotp_code(key=key, counter=step), code):
            match = step
    return match


def _normalise_totp(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def totp_provisioning_uri(*, secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TOTP_DIGITS,
            "period": TOTP_STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def totp_qr_svg(*, uri: str) -> str:
    """An inline SVG QR code of the provisioning URI."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, border=2, omitsize=True)


def recovery_code_hash(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(cleaned.encode()).hexdigest()


def _recovery_code_generate() -> str:
    raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _i in range(RECOVERY_CODE_LENGTH))
    half = RECOVERY_CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


# --- devices and codes (database) ---------------------------------------------------


def two_factor_device_confirmed(*, user: User) -> TwoFactorDevice | None:
    """The user's confirmed device, if two-factor authentication is on."""
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def two_factor_device_start(*, user: User) -> TwoFactorDevice:
    """The unconfirmed device being set up (a fresh secret when none is pending).

    Raises TwoFactorError when the user already has a confirmed device.
    """
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            raise TwoFactorError(_("Two-factor authentication is already on."))
        if device is None:
            device = TwoFactorDevice.objects.create(user=user, secret=totp_secret_generate())
    return device


def two_factor_device_confirm(*, user: User, code: str) -> list[str]:
    """Turn two-factor authentication on with a first code from the app.

    Returns the ten recovery codes in plain text: the only time they exist so.
    """
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            raise TwoFactorError(_("Start the set-up again."))
        if device.confirmed_at is not None:
            raise TwoFactorError(_("Two-factor authentication is already on."))
        step = totp_match_step(secret=device.secret, code=code)
        if step is None:
            raise TwoFactorError(
                _("That code is not right. Check the time on your phone and try again."),
                field="code",
            )
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step", "updated_at"])
        return _recovery_codes_replace(user=user)


def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new recovery codes; the earlier ones stop working."""
    with transaction.atomic():
        if not TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
            raise TwoFactorError(_("Two-factor authentication is off."))
        return _recovery_codes_replace(user=user)


def _recovery_codes_replace(*, user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_recovery_code_generate() for _i in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=recovery_code_hash(code)) for code in codes]
    )
    return codes


def recovery_codes_left(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at=None).count()


@dataclass(frozen=True)
class TwoFactorCheck:
    used_recovery_code: bool
    recovery_codes_left: int | None = None


def two_factor_verify(*, user: User, code: str) -> TwoFactorCheck:
    """Check a sign-in's second step: a TOTP code, or else a recovery code.

    A TOTP code is accepted once: its time step must be later than the last
    one used (the device row is locked, so two requests cannot both use it).
    A recovery code is used up. Raises TwoFactorError for anything else.
    """
    wrong = TwoFactorError(_("That code is not right."), field="code")
    with transaction.atomic():
        device = (
            TwoFactorDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            raise TwoFactorError(_("Two-factor authentication is off."))
        step = totp_match_step(secret=device.secret, code=code)
        if step is not None:
            if step <= device.last_used_step:
                raise TwoFactorError(
                    _("That code was already used. Wait for the next one."), field="code"
                )
            device.last_used_step = step
            device.save(update_fields=["last_used_step", "updated_at"])
            return TwoFactorCheck(used_recovery_code=False)
        used = RecoveryCode.objects.filter(
            user=user, code_hash=recovery_code_hash(code), used_at=None
        ).update(used_at=timezone.now())
        if not used:
            raise wrong
        return TwoFactorCheck(
            used_recovery_code=True, recovery_codes_left=recovery_codes_left(user=user)
        )


def two_factor_disable(*, user: User, password: str) -> None:
    """Turn two-factor authentication off (the password proves it is the owner)."""
    if not user.check_password(password):
        raise TwoFactorError(_("The password is not right."), field="password")
    with transaction.atomic():
        TwoFactorDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
