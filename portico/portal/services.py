"""What a contact's visit to the portal changes: which documents they opened.

Only the portal's detail pages call these; staff previews never count.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone

from portico.activity.services import document_view_record_activity
from portico.portal.models import DocumentView
from portico.portal.view_counts import repeat_views, repeat_views_write
from portico.portal_access.models import PortalAccess
from portico.portal_access.selectors import PortalVisit
from portico.sales.history import history_record


def _count_view(*, lookup: dict, now) -> bool:
    """One more view on an existing row; False when the contact has none yet."""
    return bool(
        DocumentView.objects.filter(**lookup).update(
            last_viewed_at=now, view_count=F("view_count") + 1
        )
    )


def document_view_record(*, access: PortalAccess, document: Model) -> bool:
    """Record that ``access``'s contact opened ``document`` in the portal.

    Per contact and document: first and last view and how many (the
    DocumentView row, counted with an UPDATE … SET view_count = view_count + 1,
    so simultaneous views are all counted); on the document, the latest view
    and who made it (an UPDATE of those two columns only: a staff edit of the
    same document is never overwritten). A contact's first view of the
    document adds "Viewed in portal by …" to its history, once, and is an
    activity event that notifies staff (later views are counted on it).

    Returns True on the contact's first view of the document.
    """
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(document)
    lookup = {
        "content_type": content_type,
        "object_id": document.pk,
        "contact_id": access.contact_id,
    }
    with transaction.atomic():
        first_view = False
        if not _count_view(lookup=lookup, now=now):
            try:
                with transaction.atomic():  # a savepoint: the unique constraint may refuse
                    DocumentView.objects.create(
                        organization_id=access.organization_id,
                        customer_id=access.customer_id,
                        first_viewed_at=now,
                        last_viewed_at=now,
                        view_count=1,
                        **lookup,
                    )
                first_view = True
            except IntegrityError:
                # Another request of the same contact inserted it a moment ago.
                _count_view(lookup=lookup, now=now)
        type(document)._default_manager.filter(
            pk=document.pk, organization_id=access.organization_id
        ).update(portal_viewed_at=now, portal_viewed_by_id=access.contact_id)
        if first_view:
            history_record(
                document=document,
                kind="viewed_in_portal",
                actor=access.user,
                name=access.contact.full_name,
            )
        # The first view is an activity event (staff are notified); later
        # views are counted on it.
        document_view_record_activity(access=access, document=document)
    document.portal_viewed_at = now
    document.portal_viewed_by_id = access.contact_id
    return first_view


def document_view_repeat_record(
    *, visit: PortalVisit, organization_id: int, model, pk: int
) -> bool:
    """A contact's later view of a document whose page came from the page cache.

    The same counts as ``document_view_record`` for a view that is not the
    first, without loading the document: added up in this process and written
    within a second (``portico.portal.view_counts``), or at once when
    ``PORTAL_VIEW_COUNT_FLUSH_SECONDS`` is 0. Written at once, it returns
    False, having changed nothing, when this contact has no view of it on
    record yet: the page is then rendered and the view recorded in full.
    """
    now = timezone.now()
    if settings.PORTAL_VIEW_COUNT_FLUSH_SECONDS > 0:
        repeat_views.add(
            model=model,
            pk=pk,
            organization_id=organization_id,
            contact_id=visit.contact_id,
            now=now,
        )
        return True
    with transaction.atomic():
        return repeat_views_write(
            model=model,
            pk=pk,
            organization_id=organization_id,
            contact_id=visit.contact_id,
            count=1,
            last_viewed_at=now,
        )
