"""PDFs from HTML templates, rendered by WeasyPrint."""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation


def _static_url_fetcher(url: str, *args, **kwargs):
    """Serve ``/static/…`` from the static files on disk: a PDF never fetches
    anything over the network (and the server may not reach itself)."""
    from weasyprint.urls import default_url_fetcher

    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if url.startswith("file://") or url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "://" in url else path
    if path.startswith(prefix):
        found = finders.find(path[len(prefix) :])
        if found:
            return default_url_fetcher(f"file://{found}", *args, **kwargs)
    raise ValueError(f"PDFs may only load static files, not {url}")


def render_pdf(*, template: str, context: dict, language: str) -> bytes:
    """Render ``template`` in ``language`` and lay it out as a PDF."""
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template, context)
    return HTML(
        string=html, base_url="http://portico.invalid/", url_fetcher=_static_url_fetcher
    ).write_pdf()


def pdf_response(pdf: bytes, *, filename: str, inline: bool = True) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
