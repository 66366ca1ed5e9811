"""Customers list → More → Enable portal, for any number of customers.

The request only records a ``BulkInvite`` and enqueues ``bulk_invite_run``
(in the same transaction); the worker invites each customer's primary
contact, ``CHUNK_SIZE`` customers per transaction, and the progress page
reads the job's counters.

Safe to run twice, and to resume: the job's customer ids are fixed when the
worker starts it (the ticked ids, or the customers matching the list's
filters at that moment, in id order), and ``processed`` — committed with each
chunk's invitations — says where to go on. A worker killed mid-chunk loses
that chunk's transaction and nothing else; the next run (``bulk_invite_recover``
at worker start, or **Try again**) starts from that chunk. A contact already
invited (not expired) or active is skipped, so running the action again sends
nothing twice.
"""

import dataclasses
import fcntl
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization, User
from portico.core.bulk_insert import rows_insert
from portico.customers.models import ContactPerson
from portico.customers.selectors import CustomerFilters, customer_list, customer_selection
from portico.mail.services import (
    Claim,
    EmailBatch,
    EmailDraft,
    OutboxSender,
    email_batches_queue,
)
from portico.portal_access.models import (
    AccessStatus,
    BulkInvite,
    BulkInviteStatus,
    PortalAccess,
    PortalInvitation,
    PortalSettings,
)
from portico.portal_access.services import (
    TOKEN_BYTES,
    PortalAccessError,
    hash_token,
    portal_settings_get,
    portal_url,
)

logger = logging.getLogger(__name__)

# Customers per transaction: big enough that a chunk's queries and its one
# bulk insert per table dominate nothing, small enough that a chunk holds
# SQLite's write lock for well under a second.
CHUNK_SIZE = 500
# A queued or running job whose row has not changed for this long has lost
# its worker; a worker starting up runs it again.
STALE_AFTER = timedelta(minutes=2)
UNFINISHED = [BulkInviteStatus.QUEUED, BulkInviteStatus.RUNNING]
# Runs of one job at once, on as many workers: they take turns chunk by
# chunk, one inserting while the other sends. A job of fewer chunks gets one.
PARALLEL_RUNS = 2


class BulkInviteError(PortalAccessError):
    """A bulk invitation that cannot be started or resumed."""


def bulk_invite_start(
    *,
    organization: Organization,
    actor: User | None,
    ids: list[int],
    all_matching: bool,
    filters: CustomerFilters,
) -> BulkInvite:
    """Record an Enable portal job for the ticked customers (or all matching
    ``filters``) and enqueue it; the worker does the inviting.

    One COUNT for all matching customers; their ids are read by the worker.
    """
    from portico.portal_access.tasks import bulk_invite_run

    selection = customer_selection(
        organization=organization, ids=ids, all_matching=all_matching, filters=filters
    )
    if all_matching:
        customer_ids: list[int] = []
        total = selection.count()
    else:
        customer_ids = sorted(selection.values_list("pk", flat=True))
        total = len(customer_ids)
    if not total:
        raise BulkInviteError(_("Select the customers whose portal to enable."))
    with transaction.atomic():
        job = BulkInvite.objects.create(
            organization=organization,
            requested_by=actor,
            customer_ids=customer_ids,
            filters=dataclasses.asdict(filters) if all_matching else {},
            all_matching=all_matching,
            total=total,
        )
        # The task row commits with the job: no job without its task.
        bulk_invite_run.enqueue(bulk_invite_id=job.pk)
    return job


def bulk_invite_resume(*, organization: Organization, bulk_invite_id: int) -> BulkInvite:
    """**Try again** after a job stopped on an error: it goes on where it was."""
    from portico.portal_access.tasks import bulk_invite_run

    with transaction.atomic():
        job = BulkInvite.objects.select_for_update().get(
            organization=organization, pk=bulk_invite_id
        )
        if job.status != BulkInviteStatus.FAILED:
            raise BulkInviteError(_("Only a job that stopped on an error can be tried again."))
        job.status = BulkInviteStatus.QUEUED
        job.save(update_fields=["status", "updated_at"])
        bulk_invite_run.enqueue(bulk_invite_id=job.pk)
    return job


def bulk_invite_recover(*, now: datetime | None = None) -> int:
    """At worker start: run again the unfinished jobs whose worker died.

    A job that is in fact still running gets a second run, which is harmless:
    the two take turns chunk by chunk on the job's row lock.
    """
    from portico.portal_access.tasks import bulk_invite_run

    now = now or timezone.now()
    stale = BulkInvite.objects.filter(status__in=UNFINISHED, updated_at__lte=now - STALE_AFTER)
    job_ids = list(stale.values_list("pk", flat=True))
    for job_id in job_ids:
        bulk_invite_run.enqueue(bulk_invite_id=job_id)
    return len(job_ids)


def bulk_invite_process(*, bulk_invite_id: int, chunk_size: int = CHUNK_SIZE) -> BulkInvite:
    """Carry out a job (the worker's task): chunk after chunk until done.

    Each chunk's invitations go out as soon as its transaction commits, from
    this run, over one SMTP connection kept for the whole run
    (``mail.services.OutboxSender``: the rows are inserted claimed by it, and
    the normal delivery sends whatever it could not). The run that starts the
    job enqueues ``PARALLEL_RUNS - 1`` more runs of it, which idle workers
    pick up: one run sends a chunk while another inserts the next.

    An error stops the job as FAILED, with what was done so far kept.
    """
    job = _begin(bulk_invite_id, chunk_size=chunk_size)
    if job.status == BulkInviteStatus.RUNNING:
        inviter = _Inviter(
            organization=job.organization,
            actor=job.requested_by,
            portal_settings=portal_settings_get(organization=job.organization),
        )
        try:
            with _checkpoints_deferred():
                _process_chunks(job=job, inviter=inviter, chunk_size=chunk_size)
        except Exception as error:
            logger.exception("Bulk invitation %s stopped", job.pk)
            BulkInvite.objects.filter(pk=job.pk, status=BulkInviteStatus.RUNNING).update(
                status=BulkInviteStatus.FAILED,
                error=f"{type(error).__name__}: {error}"[:2000],
                updated_at=timezone.now(),
            )
            raise
    return BulkInvite.objects.get(pk=job.pk)


def _process_chunks(*, job: BulkInvite, inviter: "_Inviter", chunk_size: int) -> None:
    """Chunk after chunk until the job is done, each chunk's e-mails sent
    after its commit, then marked sent (see ``OutboxSender``)."""
    sender = OutboxSender()
    try:
        more = True
        while more:
            claim = sender.claim()
            more = _process_next_chunk(
                job=job, inviter=inviter, chunk_size=chunk_size, sender=sender, claim=claim
            )
            sender.send(claim)
    finally:
        sender.close()


def _begin(bulk_invite_id: int, *, chunk_size: int) -> BulkInvite:
    """QUEUED → RUNNING, fixing the customers of an all-matching job, and
    enqueuing the job's other runs when it has chunks enough to share."""
    from portico.portal_access.tasks import bulk_invite_run

    with transaction.atomic():
        job = (
            BulkInvite.objects.select_for_update(of=("self",))
            .select_related("organization", "requested_by")
            .get(pk=bulk_invite_id)
        )
        if job.status == BulkInviteStatus.QUEUED:
            if job.all_matching and job.processed == 0:
                filters = CustomerFilters(
                    **{
                        field.name: job.filters[field.name]
                        for field in dataclasses.fields(CustomerFilters)
                        if field.name in job.filters
                    }
                )
                customers = customer_list(organization=job.organization, filters=filters)
                job.customer_ids = list(customers.order_by("pk").values_list("pk", flat=True))
                job.total = len(job.customer_ids)
            job.status = BulkInviteStatus.RUNNING
            job.error = ""
            job.save()
            if len(job.customer_ids) - job.processed > 2 * chunk_size:
                for _run in range(PARALLEL_RUNS - 1):
                    bulk_invite_run.enqueue(bulk_invite_id=job.pk)
    return job


# On SQLite, pages a job's runs may add to the write-ahead log before it is
# copied into the database file (SQLite's default: 1,000 pages, 4 MB).
DEFERRED_CHECKPOINT_PAGES = 25_000


@contextmanager
def _checkpoints_deferred() -> Iterator[None]:
    """On SQLite, keep the write-ahead log growing while the job writes, and
    copy it into the database file once the run is over.

    SQLite copies the log into the database (a checkpoint) in the commit that
    takes it past 1,000 pages: a 10,000-customer job writes ~60 MB, a
    checkpoint every 2–3 chunks, and those commits took 0.35–0.5 s of a
    3.5 s run. Up to ``DEFERRED_CHECKPOINT_PAGES`` (100 MB) they now wait for
    the end of the run (the same work, once, after its last e-mail went out).
    """
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA wal_autocheckpoint = {DEFERRED_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def _chunk_turn() -> Iterator[None]:
    """On SQLite, the runs of a job write their chunks in turn, waiting for
    each other on a file lock next to the database.

    SQLite's own wait for its write lock sleeps 1, 2, 5 … up to 100 ms between
    tries, and whoever tries when the lock is free gets it: a run waiting for
    the other's chunk slept past the commit, and the other run, back from
    sending, took the lock again (one waited 0.55 s for a 0.07 s chunk). A
    file lock wakes the waiting run the moment the other lets go. Other
    writers still wait in SQLite's way. PostgreSQL needs none of this: the
    runs queue on the job's row lock.
    """
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield
        return
    path = f"{connection.settings_dict['NAME']}-bulk.lock"
    with open(path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@dataclass
class ChunkCounts:
    invited: int = 0
    no_contact: int = 0
    no_email: int = 0
    already: int = 0


def _process_next_chunk(
    *,
    job: BulkInvite,
    inviter: "_Inviter",
    chunk_size: int,
    sender: OutboxSender | None = None,
    claim: Claim | None = None,
) -> bool:
    """Invite the next chunk in one transaction; False once the job is over.

    With ``claim`` the chunk's e-mails are queued claimed by it, for
    ``sender`` to send once the transaction commits; the same transaction
    marks sent what ``sender`` sent before and has not marked yet (SQLite).
    """
    with _chunk_turn(), transaction.atomic():
        if sender is not None:
            sender.mark_sent()
        state = (
            BulkInvite.objects.select_for_update()
            .only("status", "processed", "updated_at")
            .get(pk=job.pk)
        )
        if state.status != BulkInviteStatus.RUNNING:
            return False  # finished by another run
        chunk = job.customer_ids[state.processed : state.processed + chunk_size]
        counts = inviter.invite_customers(chunk, claim=claim) if chunk else ChunkCounts()
        now = timezone.now()
        finished = state.processed + len(chunk) >= len(job.customer_ids)
        BulkInvite.objects.filter(pk=job.pk).update(
            processed=F("processed") + len(chunk),
            invited=F("invited") + counts.invited,
            skipped_no_contact=F("skipped_no_contact") + counts.no_contact,
            skipped_no_email=F("skipped_no_email") + counts.no_email,
            skipped_already=F("skipped_already") + counts.already,
            status=BulkInviteStatus.DONE if finished else BulkInviteStatus.RUNNING,
            finished_at=now if finished else None,
            updated_at=now,
        )
    return not finished


class _Inviter:
    """``portal_access_invite`` for many contacts at once: the same state
    change (every earlier token superseded, a fresh 256-bit token of which only
    the hash is stored, the access invited) and the same e-mail, with a few
    queries per chunk instead of a few per contact.

    One per run of a job: its invitations share one moment (their lifetime
    starts when the run starts), so each language's e-mail is rendered once.
    """

    def __init__(
        self, *, organization: Organization, actor: User | None, portal_settings: PortalSettings
    ) -> None:
        self.organization = organization
        self.actor = actor
        self.now = timezone.now()
        self.expires_at = self.now + timedelta(days=portal_settings.invitation_lifetime_days)
        self.shared_context = {
            "portal_home_url": portal_url(organization=organization),
            "expires_at": self.expires_at,
            "banner": portal_settings.banner_message,
        }
        self.batches: dict[str, EmailBatch] = {}
        # One reverse() per run; each link differs only by its token.
        accept_url = portal_url(organization=organization, name="portal:accept", token="TOKEN")
        self.accept_prefix, self.accept_suffix = accept_url.rsplit("TOKEN", 1)

    def invite_customers(
        self, customer_ids: list[int], *, claim: Claim | None = None
    ) -> ChunkCounts:
        """Invite the primary contacts of ``customer_ids`` (of the organisation
        only), skipping and counting those that cannot or need not be.

        Two queries read the chunk (tuples, not model instances: at 10,000
        customers building instances cost more than the queries).
        """
        primaries = {
            contact.customer_id: contact
            for contact in map(
                _Contact._make,
                ContactPerson.objects.filter(
                    organization=self.organization,
                    customer_id__in=customer_ids,
                    is_primary=True,
                ).values_list(*_Contact._fields),
            )
        }
        accesses = {
            access.contact_id: access
            for access in map(
                _Access._make,
                PortalAccess.objects.select_for_update()
                .filter(
                    organization=self.organization,
                    contact_id__in=[contact.id for contact in primaries.values()],
                )
                .values_list(*_Access._fields),
            )
        }
        counts = ChunkCounts()
        invitees: list[tuple[_Contact, _Access | None]] = []
        for customer_id in customer_ids:
            # A customer deleted since the job started has no primary contact either.
            contact = primaries.get(customer_id)
            if contact is None:
                counts.no_contact += 1
            elif not contact.email:
                counts.no_email += 1
            elif _has_access(accesses.get(contact.id), self.now):
                counts.already += 1
            else:
                invitees.append((contact, accesses.get(contact.id)))
        self.invite(invitees, claim=claim)
        counts.invited = len(invitees)
        return counts

    def invite(
        self, invitees: list[tuple["_Contact", "_Access | None"]], *, claim: Claim | None = None
    ) -> None:
        if not invitees:
            return
        now = self.now
        existing = [access.pk for _contact, access in invitees if access is not None]
        if existing:
            PortalInvitation.objects.filter(
                access_id__in=existing, used_at=None, superseded_at=None
            ).update(superseded_at=timezone.now())
            PortalAccess.objects.filter(pk__in=existing).update(
                status=AccessStatus.INVITED,
                invited_at=now,
                invitation_expires_at=self.expires_at,
                disabled_at=None,
                updated_at=timezone.now(),
            )
        new_contacts = [contact for contact, access in invitees if access is None]
        rows_insert(
            model=PortalAccess,
            rows=[
                {"contact_id": contact.id, "customer_id": contact.customer_id}
                for contact in new_contacts
            ],
            shared={
                "organization_id": self.organization.pk,
                "status": AccessStatus.INVITED,
                "invited_at": now,
                "invitation_expires_at": self.expires_at,
            },
        )
        created = dict(
            PortalAccess.objects.filter(
                contact_id__in=[contact.id for contact in new_contacts]
            ).values_list("contact_id", "pk")
        )
        invitations = []
        drafts: dict[str, list[EmailDraft]] = {}
        for contact, access in invitees:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            invitations.append(
                {
                    "access_id": access.pk if access else created[contact.id],
                    "token_hash": hash_token(token),
                }
            )
            drafts.setdefault(contact.customer__portal_language, []).append(
                EmailDraft(
                    to_email=contact.email,
                    to_name=contact.full_name,
                    context={
                        "contact": {"first_name": contact.first_name},
                        "customer": {"display_name": contact.customer__display_name},
                        "username": contact.email,
                    },
                    secrets={"accept_url": f"{self.accept_prefix}{token}{self.accept_suffix}"},
                )
            )
        rows_insert(
            model=PortalInvitation,
            rows=invitations,
            shared={
                "organization_id": self.organization.pk,
                "expires_at": self.expires_at,
                "invited_by_id": self.actor.pk if self.actor else None,
            },
        )
        email_batches_queue(
            [
                (self._batch(language), language_drafts)
                for language, language_drafts in drafts.items()
            ],
            claim=claim,
        )

    def _batch(self, language: str) -> EmailBatch:
        if language not in self.batches:
            self.batches[language] = EmailBatch(
                organization=self.organization,
                kind="portal_access.invitation",
                template="portal_access/email/invitation",
                language=language,
                context=self.shared_context,
            )
        return self.batches[language]


class _Contact(NamedTuple):
    """What inviting needs of a primary contact (field names as in ``values_list``)."""

    id: int
    customer_id: int
    first_name: str
    last_name: str
    email: str
    customer__display_name: str
    customer__portal_language: str

    @property
    def full_name(self) -> str:  # as ContactPerson.full_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class _Access(NamedTuple):
    pk: int
    contact_id: int
    status: str
    invitation_expires_at: datetime | None


def _has_access(access: _Access | None, now: datetime) -> bool:
    """Active, or invited with an invitation that has not expired."""
    if access is None:
        return False
    if access.status == AccessStatus.ACTIVE:
        return True
    return (
        access.status == AccessStatus.INVITED
        and access.invitation_expires_at is not None
        and access.invitation_expires_at > now
    )
