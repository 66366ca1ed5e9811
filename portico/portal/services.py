"""What a contact's visit to the portal changes: which documents they opened.

Only the portal's detail pages call these; staff previews never count.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Model
from django.utils import timezone

from portico.activity.models import ActivityEvent, EventKind
from portico.activity.services import document_view_record_activity
from portico.portal.models import DocumentView
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
    first (the DocumentView row, the document's latest view, the activity
    event's count), without loading the document: three plain UPDATEs in one
    transaction (this runs on every cached document page, where building the
    ORM's queries cost more than running them). Returns False, having changed
    nothing, when this contact has no view of it on record yet, or no activity
    event for it: the page is then rendered and the view recorded in full.
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    content_type_id = ContentType.objects.get_for_model(model).pk
    views = quote(DocumentView._meta.db_table)
    events = quote(ActivityEvent._meta.db_table)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {views} SET last_viewed_at = %s, view_count = view_count + 1"
            " WHERE content_type_id = %s AND object_id = %s AND contact_id = %s",
            [now, content_type_id, pk, visit.contact_id],
        )
        if cursor.rowcount != 1:
            return False  # nothing written yet
        cursor.execute(
            f"UPDATE {events} SET repeat_count = repeat_count + 1, last_occurred_at = %s"
            " WHERE organization_id = %s AND kind = %s AND content_type_id = %s"
            " AND object_id = %s AND contact_id = %s",
            [
                now,
                organization_id,
                EventKind.DOCUMENT_VIEWED,
                content_type_id,
                pk,
                visit.contact_id,
            ],
        )
        if cursor.rowcount == 0:
            transaction.set_rollback(True, using=connection.alias)
            return False
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)}"
            " SET portal_viewed_at = %s, portal_viewed_by_id = %s"
            " WHERE id = %s AND organization_id = %s",
            [now, visit.contact_id, pk, organization_id],
        )
    return True
