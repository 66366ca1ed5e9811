"""Comment threads on quotes, sales orders, invoices and projects.

A contact posts from the portal, staff reply from the document's page.
A staff comment marked internal is never shown in the portal.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Comment(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    # The customer whose document this is: the portal reads threads by it.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="comments"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Set when a contact wrote it in the portal; empty for staff comments.
    contact = models.ForeignKey(
        "customers.ContactPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_customer = models.BooleanField(_("from the customer"), default=False)
    # The author's name as it was when they wrote (accounts change, threads don't).
    author_name = models.CharField(_("author"), max_length=200)
    body = models.TextField(_("comment"))
    internal = models.BooleanField(_("internal"), default=False)
    created_at = models.DateTimeField(_("posted"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "created_at"], name="comment_doc_idx"
            ),
            models.Index(fields=["author", "created_at"], name="comment_author_idx"),
        ]
        constraints = [
            # A customer's comment is never internal.
            models.CheckConstraint(
                condition=~(models.Q(from_customer=True) & models.Q(internal=True)),
                name="comment_customer_not_internal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"


def attachment_path(instance: "CommentAttachment", filename: str) -> str:
    # The stored name never comes from the uploader (original_name keeps theirs).
    return (
        f"comments/{instance.comment.organization_id}/{timezone.now():%Y/%m}/{instance.storage_key}"
    )


class CommentAttachment(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    storage_key = models.CharField(max_length=80)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name
