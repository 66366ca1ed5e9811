"""Reading comment threads and attachments, always scoped.

The portal reads through ``thread_for_portal`` / ``attachment_for_portal``
(the contact's organisation and customer, never an internal note, only in a
module the contact sees); the back office through ``thread_for_staff`` /
``attachment_for_staff`` (the organisation).
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from portico.accounts.models import Organization
from portico.comments.documents import KINDS, kind_of, staff_comment_path
from portico.comments.forms import StaffCommentForm
from portico.comments.models import Comment, CommentAttachment
from portico.portal.access import portal_modules_of
from portico.portal.selectors import portal_document_get
from portico.portal_access.models import PortalAccess


def _thread(*, organization_id: int, document: Model) -> QuerySet:
    return Comment.objects.filter(
        organization_id=organization_id,
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
    ).prefetch_related("attachments")


def thread_for_portal(*, access: PortalAccess, document: Model) -> list[Comment]:
    """The comments the contact may read on one of their customer's documents,
    oldest first, attachments loaded (two queries, however long the thread)."""
    if document.customer_id != access.customer_id:
        return []
    return list(
        _thread(organization_id=access.organization_id, document=document).filter(
            customer_id=access.customer_id, internal=False
        )
    )


def thread_for_staff(*, organization: Organization, document: Model) -> list[Comment]:
    """Every comment on the document, internal notes included, oldest first."""
    return list(_thread(organization_id=organization.pk, document=document))


def attachment_for_portal(*, access: PortalAccess, pk: int) -> CommentAttachment:
    """An attachment the contact may download: on a comment (not internal) of
    a document of their customer that the portal shows them, in a module they
    see. ``CommentAttachment.DoesNotExist`` otherwise."""
    attachment = CommentAttachment.objects.select_related("comment__content_type").get(
        pk=pk,
        organization_id=access.organization_id,
        comment__organization_id=access.organization_id,
        comment__customer_id=access.customer_id,
        comment__internal=False,
    )
    comment = attachment.comment
    model = comment.content_type.model_class()
    kinds = [kind for kind in KINDS.values() if kind.model is model]
    if not kinds or kinds[0].module not in portal_modules_of(access):
        raise CommentAttachment.DoesNotExist
    try:
        portal_document_get(access=access, model=model, pk=comment.object_id)
    except model.DoesNotExist as error:
        raise CommentAttachment.DoesNotExist from error
    return attachment


def attachment_for_staff(*, organization: Organization, pk: int) -> CommentAttachment:
    return CommentAttachment.objects.get(
        pk=pk, organization_id=organization.pk, comment__organization_id=organization.pk
    )


def staff_thread_context(request, document: Model, *, form: StaffCommentForm | None = None):
    """What ``comments/partials/_staff_thread.html`` needs on a document's staff page:
    ``{**staff_thread_context(request, quote)}`` in the view's context."""
    kind_of(document)  # a LookupError here is a programming error
    thread = thread_for_staff(organization=request.organization, document=document)
    return {
        "comment_thread": thread,
        "comment_form": form if form is not None else StaffCommentForm(),
        "comment_post_url": staff_comment_path(document),
        "comment_customer_count": sum(1 for comment in thread if comment.from_customer),
    }


def document_for_staff(*, organization: Organization, kind: str, pk: int) -> Model:
    """The organisation's quote, sales order, invoice or project by URL kind and id;
    ``LookupError`` for an unknown kind, ``Model.DoesNotExist`` for another's."""
    commentable = KINDS.get(kind)
    if commentable is None:
        raise LookupError(kind)
    return commentable.model.objects.get(organization=organization, pk=pk)
