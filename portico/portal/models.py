"""What contacts did in the portal that staff see: which documents they opened."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentView(models.Model):
    """One contact's views of one document in the portal: first, last, how many.

    Staff previews never count (only the portal records views). The latest
    view is also kept on the document itself (``portal_viewed_at`` /
    ``portal_viewed_by``) for the staff lists.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "customers.ContactPerson",
        on_delete=models.CASCADE,
        related_name="document_views",
        verbose_name=_("contact person"),
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    first_viewed_at = models.DateTimeField(_("first viewed"), default=timezone.now)
    last_viewed_at = models.DateTimeField(_("last viewed"), default=timezone.now)
    view_count = models.PositiveIntegerField(_("views"), default=1)

    class Meta:
        verbose_name = _("document view")
        verbose_name_plural = _("document views")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "contact"], name="document_view_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} by {self.contact_id} ×{self.view_count}"
