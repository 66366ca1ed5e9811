"""Back office: replying on a document's page, downloading attachments.

The thread itself is part of each document's staff page
(``comments/partials/_staff_thread.html`` with ``selectors.staff_thread_context``).
"""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts.decorators import staff_view
from portico.comments import selectors, services
from portico.comments.documents import staff_document_url
from portico.comments.downloads import attachment_response
from portico.comments.forms import StaffCommentForm
from portico.comments.models import CommentAttachment


@require_POST
@staff_view
def comment_post(request, kind: str, pk: int):
    """Post a reply or an internal note; htmx swaps the thread in place."""
    try:
        document = selectors.document_for_staff(organization=request.organization, kind=kind, pk=pk)
    except (LookupError, ObjectDoesNotExist) as error:
        raise Http404 from error
    form = StaffCommentForm(request.POST, request.FILES)
    posted = None
    if form.is_valid():
        try:
            posted = services.comment_add_by_staff(
                organization=request.organization,
                user=request.user,
                document=document,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                files=form.cleaned_data["files"],
            )
        except services.CommentError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    success = (
        _("Internal note added.")
        if posted is not None and posted.internal
        else _("Comment posted.")
    )
    if request.htmx:
        # A fresh form after posting; the same one (with its errors) otherwise.
        context = selectors.staff_thread_context(
            request, document, form=None if posted is not None else form
        )
        context["comment_posted"] = success if posted is not None else ""
        return render(request, "comments/partials/_staff_thread.html", context)
    if posted is not None:
        messages.success(request, success)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(f"{staff_document_url(document)}#comments")


@staff_view
def attachment_download(request, pk: int):
    try:
        attachment = selectors.attachment_for_staff(organization=request.organization, pk=pk)
    except CommentAttachment.DoesNotExist as error:
        raise Http404 from error
    return attachment_response(attachment, inline=request.GET.get("inline") == "1")
