"""Provider secrets at rest: encrypted with a key derived from ``SECRET_KEY``.

The Stripe secret key and webhook signing secret are stored as Fernet tokens
(AES-128-CBC with an HMAC-SHA256, from ``cryptography``), so a copy of the
database alone does not reveal them. The Fernet key is derived from
``settings.SECRET_KEY`` with HKDF; tokens written under a key listed in
``SECRET_KEY_FALLBACKS`` still decrypt after the key is rotated.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_KEY_PURPOSE = b"portico.online_payments.secrets"


class SecretDecryptError(Exception):
    """A stored secret that cannot be decrypted (``SECRET_KEY`` changed without a fallback)."""


@functools.lru_cache(maxsize=8)
def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def secret_encrypt(value: str) -> str:
    """``value`` encrypted for storage ("" stays "")."""
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    """The plain value of a stored ``token`` ("" stays "")."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise SecretDecryptError(
            "A stored payment secret cannot be decrypted: enter it again in Settings → "
            "Online payments."
        ) from error
