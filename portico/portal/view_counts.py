"""Later views of cached document pages: counted in memory, written together.

A contact's first view of a document is recorded in full when its page is
rendered (``services.document_view_record``: the DocumentView row, history,
the activity event that notifies staff). Each later view served from the page
cache only adds one to three counters (the contact's view count, the
activity event's count, the document's "last viewed" stamp). Writing them
per request made every cached document page a write transaction; instead,
each process adds them up and writes what gathered once a second
(``PORTAL_VIEW_COUNT_FLUSH_SECONDS``) in one transaction, from a timer thread.

The trade: staff see a later view up to a second late, and a process killed
outright (SIGKILL, power loss) loses at most that second's later views. A
worker that exits normally writes them first (``atexit``). First views, and
everything the business relies on (payments, comments, e-mail), are written
at once. ``PORTAL_VIEW_COUNT_FLUSH_SECONDS = 0`` writes every view at once.
"""

import atexit
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.db.models import Model

from portico.activity.models import ActivityEvent, EventKind
from portico.portal.models import DocumentView

logger = logging.getLogger(__name__)


@dataclass
class _Views:
    count: int
    last_viewed_at: datetime


def repeat_views_write(
    *,
    model: type[Model],
    pk: int,
    organization_id: int,
    contact_id: int,
    count: int,
    last_viewed_at: datetime,
) -> bool:
    """Add ``count`` later views of a document by a contact, in three UPDATEs
    (plain SQL: this runs for every cached document page). Run inside a
    transaction. False when the contact has no view of it on record yet."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(last_viewed_at)
    content_type_id = ContentType.objects.get_for_model(model).pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(DocumentView._meta.db_table)}"
            " SET last_viewed_at = %s, view_count = view_count + %s"
            " WHERE content_type_id = %s AND object_id = %s AND contact_id = %s",
            [now, count, content_type_id, pk, contact_id],
        )
        if cursor.rowcount != 1:
            return False
        cursor.execute(
            f"UPDATE {quote(ActivityEvent._meta.db_table)}"
            " SET repeat_count = repeat_count + %s, last_occurred_at = %s"
            " WHERE organization_id = %s AND kind = %s AND content_type_id = %s"
            " AND object_id = %s AND contact_id = %s",
            [
                count,
                now,
                organization_id,
                EventKind.DOCUMENT_VIEWED,
                content_type_id,
                pk,
                contact_id,
            ],
        )
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)}"
            " SET portal_viewed_at = %s, portal_viewed_by_id = %s"
            " WHERE id = %s AND organization_id = %s",
            [now, contact_id, pk, organization_id],
        )
    return True


class RepeatViewCounter:
    """This process's later views not written yet (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple, _Views] = {}
        self._timer: threading.Timer | None = None

    def add(
        self, *, model: type[Model], pk: int, organization_id: int, contact_id: int, now: datetime
    ) -> None:
        key = (model, pk, organization_id, contact_id)
        with self._lock:
            views = self._pending.get(key)
            if views is None:
                self._pending[key] = _Views(1, now)
            else:
                views.count += 1
                views.last_viewed_at = max(views.last_viewed_at, now)
            if self._timer is None:
                self._timer = threading.Timer(
                    settings.PORTAL_VIEW_COUNT_FLUSH_SECONDS, self._flush_in_thread
                )
                self._timer.daemon = True
                self._timer.start()

    def pending(self) -> int:
        with self._lock:
            return sum(views.count for views in self._pending.values())

    def flush(self) -> int:
        """Write every pending view now, in one transaction; returns how many."""
        with self._lock:
            pending, self._pending = self._pending, {}
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not pending:
            return 0
        try:
            with transaction.atomic():
                for (model, pk, organization_id, contact_id), views in pending.items():
                    repeat_views_write(
                        model=model,
                        pk=pk,
                        organization_id=organization_id,
                        contact_id=contact_id,
                        count=views.count,
                        last_viewed_at=views.last_viewed_at,
                    )
        except Exception:
            self._restore(pending)  # tried again with the next ones
            raise
        return sum(views.count for views in pending.values())

    def _restore(self, pending: dict[tuple, _Views]) -> None:
        with self._lock:
            for key, views in pending.items():
                current = self._pending.get(key)
                if current is None:
                    self._pending[key] = views
                else:
                    current.count += views.count
                    current.last_viewed_at = max(current.last_viewed_at, views.last_viewed_at)

    def _flush_in_thread(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("Could not write the portal's later document views")
        finally:
            connections.close_all()  # this thread's connections only


repeat_views = RepeatViewCounter()
atexit.register(repeat_views.flush)
