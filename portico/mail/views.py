from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from portico.accounts.decorators import staff_view
from portico.mail import selectors, services
from portico.mail.models import EmailStatus, OutboundEmail


def _get_email(request, email_id: int) -> OutboundEmail:
    try:
        return selectors.outbox_get(organization=request.organization, email_id=email_id)
    except OutboundEmail.DoesNotExist as error:
        raise Http404 from error


@staff_view
def outbox(request):
    status = request.GET.get("status", "")
    emails = selectors.outbox_list(organization=request.organization, status=status)
    page = Paginator(emails, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "mail/outbox.html",
        {"page": page, "status": status, "status_choices": EmailStatus.choices},
    )


@staff_view
def outbox_detail(request, email_id: int):
    return render(request, "mail/outbox_detail.html", {"email": _get_email(request, email_id)})


@xframe_options_sameorigin
@staff_view
def outbox_html(request, email_id: int):
    """The HTML body alone, shown in a sandboxed iframe on the detail page."""
    email = _get_email(request, email_id)
    response = HttpResponse(email.preview_html, content_type="text/html; charset=utf-8")
    # The body is our own rendered template, but treat it as untrusted anyway.
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


@require_POST
@staff_view
def outbox_retry(request, email_id: int):
    email = _get_email(request, email_id)
    try:
        services.outbox_retry(organization=request.organization, email_id=email.pk)
    except services.OutboxError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The e-mail is queued to be sent again."))
    return redirect("mail:detail", email_id=email.pk)
