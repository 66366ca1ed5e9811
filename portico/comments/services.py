"""Posting comments: a contact from the portal, staff from the document's page.

Each service checks the document belongs to the poster, validates the text
and the attachments, stores the files under random names with Django's
storage API, and writes the comment, its history entry and its e-mails (to
the outbox) in one transaction: nothing is notified about a comment that
was not saved, and no saved comment loses its notification.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portico.accounts.models import Organization, User
from portico.activity.models import EventKind
from portico.activity.services import activity_record
from portico.comments.attachments import (
    ALLOWED_EXTENSIONS,
    ALLOWED_TYPES,
    SNIFF_BYTES,
    clean_original_name,
    extension_of,
    sniff_content_type,
)
from portico.comments.documents import (
    document_label,
    kind_of,
    portal_document_path,
)
from portico.comments.models import Comment, CommentAttachment
from portico.core.errors import PorticoError
from portico.mail.services import email_queue
from portico.portal.access import portal_modules_of
from portico.portal.selectors import portal_documents
from portico.portal_access.models import AccessStatus, PortalAccess
from portico.portal_access.services import portal_settings_get
from portico.sales.history import history_record

BODY_MAX_LENGTH = 5000
ATTACHMENTS_MAX = 5
# A person may post at most RATE_LIMIT_COUNT comments in RATE_LIMIT_WINDOW.
RATE_LIMIT_COUNT = 10
RATE_LIMIT_WINDOW = timedelta(minutes=10)
# How much of a comment an e-mail quotes.
EMAIL_EXCERPT_LENGTH = 1000


class CommentError(PorticoError):
    """A comment that cannot be posted as written (``field`` names the culprit)."""


class CommentRateLimitedError(CommentError):
    """The person posted too many comments in a short time."""


@dataclass(frozen=True)
class _CheckedFile:
    upload: UploadedFile
    original_name: str
    content_type: str
    size: int


def _clean_body(body: str) -> str:
    # PostgreSQL refuses NUL characters in text: drop them rather than fail.
    body = (body or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not body:
        raise CommentError(_("Write a comment."), field="body")
    if len(body) > BODY_MAX_LENGTH:
        raise CommentError(
            _("A comment can have at most %(max)s characters (this one has %(count)s).")
            % {"max": f"{BODY_MAX_LENGTH:,}", "count": f"{len(body):,}"},
            field="body",
        )
    return body


def _read_head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return head


def _check_files(files) -> list[_CheckedFile]:
    """Every file checked before any is stored: count, size, type by content."""
    uploads = [upload for upload in files or () if upload]
    if len(uploads) > ATTACHMENTS_MAX:
        raise CommentError(
            _("Attach at most %(max)s files to one comment.") % {"max": ATTACHMENTS_MAX},
            field="files",
        )
    max_bytes = settings.COMMENT_ATTACHMENT_MAX_BYTES
    checked = []
    for upload in uploads:
        name = clean_original_name(upload.name)
        size = upload.size or 0
        if size == 0:
            raise CommentError(_("%(name)s is empty.") % {"name": name}, field="files")
        if size > max_bytes:
            raise CommentError(
                _("%(name)s is too large (%(size)s): a file may have at most %(max)s.")
                % {
                    "name": name,
                    "size": filesizeformat(size),
                    "max": filesizeformat(max_bytes),
                },
                field="files",
            )
        content_type = sniff_content_type(_read_head(upload))
        if content_type is None or extension_of(name) not in ALLOWED_EXTENSIONS:
            raise CommentError(
                _("%(name)s is not a PDF or an image (PNG, JPEG, GIF or WebP).") % {"name": name},
                field="files",
            )
        checked.append(
            _CheckedFile(upload=upload, original_name=name, content_type=content_type, size=size)
        )
    return checked


def _store_attachments(
    *, comment: Comment, files: list[_CheckedFile], stored_names: list[str]
) -> list[CommentAttachment]:
    attachments = []
    for checked in files:
        # The stored name is random: never the uploader's (original_name keeps it).
        extension = ALLOWED_TYPES[checked.content_type][0]
        attachment = CommentAttachment(
            organization_id=comment.organization_id,
            comment=comment,
            storage_key=f"{secrets.token_hex(16)}{extension}",
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
        )
        attachment.file.save(attachment.storage_key, checked.upload, save=False)
        stored_names.append(attachment.file.name)
        attachment.save()
        attachments.append(attachment)
    return attachments


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _check_document(document: Model, *, organization_id: int) -> None:
    try:
        kind_of(document)
    except LookupError as error:
        raise CommentError(_("This cannot be commented on.")) from error
    if document.pk is None or document.organization_id != organization_id:
        raise CommentError(_("This document is not one of yours."))


def _user_name(user: User) -> str:
    return (user.get_full_name() or user.email)[:200]


# -- From the portal -----------------------------------------------------------------


def comment_add_by_contact(
    *, access: PortalAccess, document: Model, body: str, files=()
) -> Comment:
    """A contact comments on one of their customer's documents (or projects)."""
    _check_document(document, organization_id=access.organization_id)
    kind = kind_of(document)
    if document.customer_id != access.customer_id:
        raise CommentError(_("This document is not one of yours."))
    if kind.module not in portal_modules_of(access):
        raise CommentError(_("This document is not one of yours."))
    if not portal_documents(access=access, model=kind.model).filter(pk=document.pk).exists():
        raise CommentError(_("This document is not one of yours."))
    body = _clean_body(body)
    checked_files = _check_files(files)
    stored_names: list[str] = []
    try:
        with transaction.atomic():
            # One contact's posts queue here, so the rate limit holds under races.
            locked = PortalAccess.objects.select_for_update().get(pk=access.pk)
            if locked.status != AccessStatus.ACTIVE or locked.user_id is None:
                raise CommentError(_("Your access to the portal is no longer active."))
            since = timezone.now() - RATE_LIMIT_WINDOW
            recent = Comment.objects.filter(author_id=locked.user_id, created_at__gte=since)
            if recent.count() >= RATE_LIMIT_COUNT:
                raise CommentRateLimitedError(
                    _("You are posting too fast; try again in a few minutes.")
                )
            author_name = (access.contact.full_name or _user_name(access.user))[:200]
            comment = Comment.objects.create(
                organization_id=access.organization_id,
                customer_id=access.customer_id,
                content_type=ContentType.objects.get_for_model(document),
                object_id=document.pk,
                author_id=locked.user_id,
                contact_id=access.contact_id,
                from_customer=True,
                author_name=author_name,
                body=body,
                internal=False,
            )
            _store_attachments(comment=comment, files=checked_files, stored_names=stored_names)
            if kind.has_history:
                history_record(
                    document=document,
                    kind="commented_in_portal",
                    actor=access.user,
                    name=author_name,
                )
            activity_record(
                organization=access.organization,
                kind=EventKind.COMMENT_ADDED,
                customer=access.customer,
                contact=access.contact,
                actor=access.user,
                document=document,
                data={
                    "excerpt": _excerpt(comment.body),
                    "attachments": len(checked_files),
                },
            )
    except BaseException:
        _delete_stored(stored_names)
        raise
    return comment


def _excerpt(body: str) -> str:
    if len(body) <= EMAIL_EXCERPT_LENGTH:
        return body
    return body[:EMAIL_EXCERPT_LENGTH].rstrip() + "…"


# -- From the back office ------------------------------------------------------------


def comment_add_by_staff(
    *,
    organization: Organization,
    user: User,
    document: Model,
    body: str,
    internal: bool,
    files=(),
) -> Comment:
    """Staff comment on a document: a reply the customer sees (and is e-mailed
    about, when the portal settings say so), or an internal note."""
    _check_document(document, organization_id=organization.pk)
    body = _clean_body(body)
    checked_files = _check_files(files)
    stored_names: list[str] = []
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                organization=organization,
                customer_id=document.customer_id,
                content_type=ContentType.objects.get_for_model(document),
                object_id=document.pk,
                author=user,
                from_customer=False,
                author_name=_user_name(user),
                body=body,
                internal=bool(internal),
            )
            _store_attachments(comment=comment, files=checked_files, stored_names=stored_names)
            if not comment.internal:
                portal_settings = portal_settings_get(organization=organization)
                if portal_settings.email_customers_on_comment:
                    _notify_contacts(organization=organization, document=document, comment=comment)
    except BaseException:
        _delete_stored(stored_names)
        raise
    return comment


def _notify_contacts(*, organization: Organization, document: Model, comment: Comment) -> None:
    """E-mail the customer's contacts who can open the document in the portal,
    each in their portal language."""
    kind = kind_of(document)
    accesses = list(
        PortalAccess.objects.filter(
            organization=organization,
            customer_id=document.customer_id,
            status=AccessStatus.ACTIVE,
        )
        .select_related("contact", "customer", "user", "organization__portal_settings")
        .order_by("pk")
    )
    if not accesses:
        return
    # A draft (or a void document the portal hides) cannot be opened there yet.
    if not portal_documents(access=accesses[0], model=kind.model).filter(pk=document.pk).exists():
        return
    path = portal_document_path(document, organization.portal_name)
    document_url = f"{settings.SITE_URL}{path}#comments"
    attachment_count = comment.attachments.count()
    for access in accesses:
        if kind.module not in portal_modules_of(access):
            continue
        to_email = access.contact.email or (access.user.email if access.user else "")
        if not to_email:
            continue
        language = access.effective_language
        with translation.override(language):
            label = document_label(document)
        email_queue(
            organization=organization,
            kind="comments.staff_reply",
            to_email=to_email,
            to_name=access.contact.full_name,
            template="comments/email/staff_reply",
            context={
                "document": document,
                "document_label": label,
                "contact": access.contact,
                "author_name": comment.author_name,
                "body": _excerpt(comment.body),
                "attachment_count": attachment_count,
                "document_url": document_url,
            },
            language=language,
        )
