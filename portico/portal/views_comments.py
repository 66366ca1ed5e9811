"""Portal: a document's comment thread, posting to it, downloading its files.

A document's page (quote, sales order, invoice, project) shows the thread
with ``{% include "portal/comments/_thread.html" %}`` and the context of
``comments_context``. Posting answers htmx with the thread alone (swapped in
place) and a plain form post with a redirect back to the page's #comments.
"""

from django.contrib import messages
from django.db.models import Model
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.comments import selectors as comment_selectors
from portico.comments import services as comment_services
from portico.comments.documents import KINDS, portal_comment_path, portal_document_path
from portico.comments.downloads import attachment_response
from portico.comments.forms import CommentForm
from portico.comments.models import CommentAttachment
from portico.portal.access import portal_view
from portico.portal.selectors import portal_document_get
from portico.portal_access.models import PortalModule


def comments_context(*, request, document: Model, form: CommentForm | None = None) -> dict:
    """Context for portal/comments/_thread.html on a document's or project's page."""
    portal_name = request.organization.portal_name
    return {
        "comment_thread": comment_selectors.thread_for_portal(
            access=request.portal_access, document=document
        ),
        "comment_form": form if form is not None else CommentForm(),
        "comment_post_url": portal_comment_path(document, portal_name),
    }


def _post(request, portal_name: str, *, kind: str, pk: int):
    model = KINDS[kind].model
    try:
        document = portal_document_get(access=request.portal_access, model=model, pk=pk)
    except model.DoesNotExist as error:
        raise Http404 from error
    form = CommentForm(request.POST, request.FILES)
    posted = False
    if form.is_valid():
        try:
            comment_services.comment_add_by_contact(
                access=request.portal_access,
                document=document,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
        except comment_services.CommentError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            posted = True
    if request.htmx:
        context = comments_context(
            request=request, document=document, form=None if posted else form
        )
        context["comment_posted"] = posted
        return render(request, "portal/comments/_thread.html", context)
    if posted:
        messages.success(request, _("Your comment was posted."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(f"{portal_document_path(document, portal_name)}#comments")


@require_POST
@portal_view(module=PortalModule.QUOTES)
def quote_comment(request, portal_name, pk):
    return _post(request, portal_name, kind="quote", pk=pk)


@require_POST
@portal_view(module=PortalModule.SALES_ORDERS)
def sales_order_comment(request, portal_name, pk):
    return _post(request, portal_name, kind="sales_order", pk=pk)


@require_POST
@portal_view(module=PortalModule.INVOICES)
def invoice_comment(request, portal_name, pk):
    return _post(request, portal_name, kind="invoice", pk=pk)


@require_POST
@portal_view(module=PortalModule.PROJECTS)
def project_comment(request, portal_name, pk):
    return _post(request, portal_name, kind="project", pk=pk)


@portal_view
def attachment_download(request, portal_name, pk):
    """A file of a comment the contact can read (404 for anything else)."""
    try:
        attachment = comment_selectors.attachment_for_portal(access=request.portal_access, pk=pk)
    except CommentAttachment.DoesNotExist as error:
        raise Http404 from error
    return attachment_response(attachment, inline=request.GET.get("inline") == "1")
