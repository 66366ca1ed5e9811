"""Rendered portal pages, kept per contact until the data they show changes.

A signed-in contact's document pages (home, the lists, a document) are
rendered once and served again from the ``portal_pages`` cache while nothing
they show has changed. The key holds everything a page depends on:

- the organisation and its ``portal_version``, the customer and its
  ``portal_version`` (raised by database triggers on every change to data the
  portal shows, ``portico.portal.versions``);
- the contact's access, the modules it sees, the page's language;
- the signed-in person's name and e-mail (the header shows them);
- the full path with its query string and the htmx headers that pick a
  fragment;
- today's date in the organisation's time zone (overdue, expiry) and a
  ``PORTAL_PAGE_CACHE_SECONDS`` lifetime for anything else time-relative.

What is never cached: anything but a GET answered 200 with a plain body, a
response that sets cookies, and any request with a message pending (the
"saved" banners are shown once).

CSRF: the page is rendered with a placeholder instead of the token
(``csrf_placeholder`` context processor) and each response gets a freshly
masked token of the visitor's own secret, exactly as an uncached render.

Each gunicorn worker has its own local-memory cache (``CACHES``); entries of
an old version are never read again and age out.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

CACHE_ALIAS = "portal_pages"
# Random per process: text in a document cannot forge it.
CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"
_RECORDING = "_portal_page_recording"


@dataclass(frozen=True)
class CachedPage:
    content: bytes
    content_type: str
    placeholder: bytes

    def response(self, request: HttpRequest) -> HttpResponse:
        content = self.content
        if self.placeholder in content:
            content = content.replace(self.placeholder, get_token(request).encode())
        response = HttpResponse(content, content_type=self.content_type)
        response["X-Portal-Page-Cache"] = "hit"
        return response


def _cache():
    return caches[CACHE_ALIAS]


def page_cache_enabled() -> bool:
    return getattr(settings, "PORTAL_PAGE_CACHE_SECONDS", 0) > 0


def request_is_cacheable(request: HttpRequest) -> bool:
    if request.method != "GET" or not page_cache_enabled():
        return False
    # A message waiting to be shown ("Saved.") makes the page one of a kind.
    return not (request.COOKIES.get("messages") or "_messages" in request.session)


def page_key(request: HttpRequest, *, organization, visit, modules: list[str]) -> str:
    user = request.user
    parts = (
        organization.pk,
        organization.portal_version,
        visit.access_id,
        visit.customer_id,
        visit.customer_version,
        ",".join(modules),
        visit.language,
        user.pk,
        user.get_full_name(),
        user.email,
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        request.headers.get("HX-Boosted", ""),
        request.headers.get("HX-History-Restore-Request", ""),
        timezone.localdate().isoformat(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"portal-page:{digest}"


def page_get(key: str) -> CachedPage | None:
    return _cache().get(key)


def recording_start(request: HttpRequest) -> None:
    """The page about to be rendered will be stored: render the placeholder."""
    setattr(request, _RECORDING, True)


def page_store(request: HttpRequest, key: str, response: HttpResponse) -> HttpResponse:
    """Store ``response`` (rendered with the placeholder) if it may be reused,
    and return it with the real token in place of the placeholder."""
    placeholder = CSRF_PLACEHOLDER.encode()
    if (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not getattr(response, "portal_page_uncacheable", False)
        and "_messages" not in request.session
    ):
        _cache().set(
            key,
            CachedPage(response.content, response["Content-Type"], placeholder),
            settings.PORTAL_PAGE_CACHE_SECONDS,
        )
    if not response.streaming and placeholder in response.content:
        response.content = response.content.replace(placeholder, get_token(request).encode())
    return response


def csrf_placeholder(request: HttpRequest) -> dict:
    """Context processor: while a page to be cached renders, ``csrf_token`` is
    the placeholder (``{% csrf_token %}`` and ``{{ csrf_token }}`` alike)."""
    if getattr(request, _RECORDING, False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}
