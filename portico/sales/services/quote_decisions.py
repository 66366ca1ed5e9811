"""A customer's decision on a quote, made in the portal: accept or decline.

An acceptance is bound to the exact revision the contact saw (the SHA-256 of
its snapshot, sent back by the page): if staff changed the quote after the
page was opened, the decision is refused and the contact reviews the new
revision first. The decision records who (contact, typed name, e-mail), when,
from where (IP address, browser) and what (revision and hash): the
certificate of acceptance prints it.

Races are closed in the database: the quote row is locked for the whole
decision, and ``QuoteDecision`` allows one decision per revision, so two
contacts deciding at the same moment cannot both win.
"""

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portico.activity.models import EventKind
from portico.activity.services import activity_record
from portico.portal.selectors import portal_documents
from portico.portal_access.models import PortalAccess
from portico.sales.history import history_record
from portico.sales.models import (
    Quote,
    QuoteDecision,
    QuoteDecisionKind,
    QuoteRevision,
    QuoteStatus,
)
from portico.sales.services.common import SalesError, document_snapshot
from portico.sales.services.quotes import _record_revision

SIGNER_NAME_MAX_LENGTH = 200
REASON_MAX_LENGTH = 2000
USER_AGENT_MAX_LENGTH = 500


class QuoteDecisionError(SalesError):
    """A decision the contact cannot make; the message says why."""


class QuoteNotDecidableError(QuoteDecisionError):
    """The quote is decided, invoiced or expired (or was never sent)."""


class QuoteAlreadyDecidedError(QuoteNotDecidableError):
    """Somebody decided first; the message says who and when."""


class QuoteRevisionChangedError(QuoteDecisionError):
    """The quote changed after the page was opened; ``revision`` is the current one."""

    def __init__(self, message: str, *, revision: int):
        super().__init__(message)
        self.revision = revision


def quote_current_revision(*, quote: Quote) -> QuoteRevision | None:
    """The revision the customer sees now (None: a sent quote without one yet)."""
    if not quote.revision:
        return None
    return QuoteRevision.objects.filter(quote_id=quote.pk, number=quote.revision).first()


def quote_current_content_hash(*, quote: Quote) -> str:
    """The SHA-256 a decision on this quote must name: its current revision's
    (or, for a sent quote recorded without revisions, its live content's)."""
    revision = quote_current_revision(quote=quote)
    if revision is not None:
        return revision.content_hash
    return document_snapshot(quote)[1]


def quote_decision_latest(*, quote: Quote) -> QuoteDecision | None:
    """The customer's portal decision on the quote, if one was made."""
    return (
        QuoteDecision.objects.filter(quote_id=quote.pk)
        .select_related("contact")
        .order_by("-decided_at", "-id")
        .first()
    )


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _already_decided_message(quote: Quote, decision: QuoteDecision | None) -> str:
    if decision is not None:
        values = {"name": decision.signer_name, "when": _when(decision.decided_at)}
        if decision.kind == QuoteDecisionKind.ACCEPTED:
            return _("This quote was already accepted by %(name)s on %(when)s.") % values
        return _("This quote was already declined by %(name)s on %(when)s.") % values
    if quote.status == QuoteStatus.ACCEPTED:
        return _("Quote %(number)s has already been accepted.") % {"number": quote.number}
    return _("Quote %(number)s has already been declined.") % {"number": quote.number}


def quote_not_decidable_message(quote: Quote) -> str | None:
    """Why the customer cannot decide on this quote any more (None: they can).

    The portal shows the same words on the quote's page as the service raises.
    """
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
        return _already_decided_message(quote, quote_decision_latest(quote=quote))
    if quote.status == QuoteStatus.INVOICED:
        return _(
            "Quote %(number)s has been invoiced and can no longer be accepted or declined."
        ) % {"number": quote.number}
    if quote.status == QuoteStatus.DRAFT:
        return _("Quote %(number)s has not been sent yet.") % {"number": quote.number}
    if quote.display_status == QuoteStatus.EXPIRED:
        return _(
            "Quote %(number)s expired on %(date)s and can no longer be accepted. "
            "Please ask %(organization)s for a new quote."
        ) % {
            "number": quote.number,
            "date": formats.date_format(quote.expiry_date, "DATE_FORMAT"),
            "organization": quote.organization.name,
        }
    if quote.status != QuoteStatus.SENT:
        return _("Quote %(number)s can no longer be accepted or declined.") % {
            "number": quote.number
        }
    return None


def _check_text(value: str, *, field: str, max_length: int, empty: str, too_long: str) -> str:
    value = (value or "").strip()
    if not value:
        raise QuoteDecisionError(empty, field=field)
    if len(value) > max_length:
        raise QuoteDecisionError(too_long % {"max": max_length, "length": len(value)}, field=field)
    return value


def _decide(
    *,
    access: PortalAccess,
    quote_id: int,
    content_hash: str,
    kind: str,
    check_input,
    ip_address: str | None,
    user_agent: str,
) -> QuoteDecision:
    with transaction.atomic():
        # Scoped as every portal read is (organisation, customer, no drafts):
        # another customer's quote is simply not found.
        quote = (
            portal_documents(access=access, model=Quote)
            .select_for_update(of=("self",))
            .select_related("organization", "customer")
            .get(pk=quote_id)
        )
        refusal = quote_not_decidable_message(quote)
        if refusal is not None:
            error_class = (
                QuoteAlreadyDecidedError
                if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED)
                else QuoteNotDecidableError
            )
            raise error_class(refusal)
        revision = quote_current_revision(quote=quote)
        current_hash = (
            revision.content_hash if revision is not None else document_snapshot(quote)[1]
        )
        if (content_hash or "").strip().lower() != current_hash:
            raise QuoteRevisionChangedError(
                _(
                    "The quote changed after you opened it. "
                    "Please review revision %(revision)s before deciding."
                )
                % {"revision": max(quote.revision, 1)},
                revision=max(quote.revision, 1),
            )
        fields = check_input()
        if revision is None:
            # A sent quote recorded before revisions existed: what the
            # customer saw becomes its revision, so the decision can name it.
            revision = _record_revision(quote=quote, actor=None)
        contact = access.contact
        decided_at = timezone.now()
        try:
            with transaction.atomic():
                decision = QuoteDecision.objects.create(
                    organization_id=quote.organization_id,
                    quote=quote,
                    kind=kind,
                    revision_number=revision.number,
                    content_hash=revision.content_hash,
                    contact=contact,
                    user=access.user,
                    signer_email=contact.email or (access.user.email if access.user else ""),
                    ip_address=ip_address or None,
                    user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
                    decided_at=decided_at,
                    **fields,
                )
        except IntegrityError as error:
            # The row lock makes this unreachable in practice; the constraint
            # is the last word if two decisions ever get this far.
            raise QuoteAlreadyDecidedError(
                _already_decided_message(quote, quote_decision_latest(quote=quote))
            ) from error
        quote.status = (
            QuoteStatus.ACCEPTED if kind == QuoteDecisionKind.ACCEPTED else QuoteStatus.DECLINED
        )
        quote.decided_at = decided_at
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        if kind == QuoteDecisionKind.ACCEPTED:
            history_record(
                document=quote,
                kind="accepted_in_portal",
                actor=access.user,
                name=decision.signer_name,
                revision=decision.revision_number,
            )
        else:
            history_record(
                document=quote,
                kind="declined_in_portal",
                actor=access.user,
                name=decision.signer_name,
                reason=decision.reason,
                revision=decision.revision_number,
            )
        accepted = kind == QuoteDecisionKind.ACCEPTED
        activity_record(
            organization=quote.organization,
            kind=EventKind.QUOTE_ACCEPTED if accepted else EventKind.QUOTE_DECLINED,
            customer=quote.customer,
            contact=contact,
            actor=access.user,
            document=quote,
            data={} if accepted else {"reason": decision.reason},
        )
    return decision


def quote_accept_in_portal(
    *,
    access: PortalAccess,
    quote_id: int,
    content_hash: str,
    signer_name: str,
    terms_accepted: bool,
    ip_address: str | None,
    user_agent: str,
) -> QuoteDecision:
    """The contact accepts the revision they saw, signing with their full name."""

    def check_input() -> dict:
        name = _check_text(
            " ".join((signer_name or "").split()),
            field="signer_name",
            max_length=SIGNER_NAME_MAX_LENGTH,
            empty=_("Type your full name to accept the quote."),
            too_long=_("Your name can have at most %(max)s characters (it has %(length)s)."),
        )
        if not terms_accepted:
            raise QuoteDecisionError(
                _("Tick the box to confirm that you accept the terms."), field="terms_accepted"
            )
        return {"signer_name": name, "terms_accepted": True}

    return _decide(
        access=access,
        quote_id=quote_id,
        content_hash=content_hash,
        kind=QuoteDecisionKind.ACCEPTED,
        check_input=check_input,
        ip_address=ip_address,
        user_agent=user_agent,
    )


def quote_decline_in_portal(
    *,
    access: PortalAccess,
    quote_id: int,
    content_hash: str,
    reason: str,
    ip_address: str | None,
    user_agent: str,
) -> QuoteDecision:
    """The contact declines the revision they saw, saying why."""

    def check_input() -> dict:
        text = _check_text(
            reason,
            field="reason",
            max_length=REASON_MAX_LENGTH,
            empty=_("Tell us why you decline the quote."),
            too_long=_("The reason can have at most %(max)s characters (it has %(length)s)."),
        )
        contact = access.contact
        name = contact.full_name or (access.user.get_full_name() if access.user else "")
        return {"signer_name": name[:SIGNER_NAME_MAX_LENGTH], "reason": text}

    return _decide(
        access=access,
        quote_id=quote_id,
        content_hash=content_hash,
        kind=QuoteDecisionKind.DECLINED,
        check_input=check_input,
        ip_address=ip_address,
        user_agent=user_agent,
    )
