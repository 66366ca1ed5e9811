"""Self sign-up: /portal/<portal-name>/signup/.

A person registers a company or themselves as a new customer of the
organisation. The e-mail address is verified first: a SignupRequest keeps
what they typed and the hash of a single-use token (24 hours) sent by e-mail.
Opening the link and choosing a password creates, in one transaction, the
Customer, its primary ContactPerson, the User (or links an existing account
with the same e-mail, once its password is given) and an active PortalAccess;
staff hear about it through their notifications (an activity event).
"""

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization, User
from portico.activity.models import EventKind
from portico.activity.services import activity_record
from portico.customers.models import CustomerType
from portico.customers.services import ContactData, customer_create
from portico.mail.services import email_queue
from portico.portal_access.models import (
    AccessStatus,
    PortalAccess,
    PortalSettings,
    SignupRequest,
)
from portico.portal_access.services import (
    TOKEN_BYTES,
    PortalAccessError,
    hash_token,
    portal_settings_get,
    portal_url,
)

SIGNUP_LINK_LIFETIME = timedelta(hours=24)
# At most this many sign-up e-mails per address (to one portal) and per
# client address (to any portal) in SIGNUP_THROTTLE_WINDOW.
SIGNUP_REQUESTS_PER_EMAIL = 3
SIGNUP_REQUESTS_PER_CLIENT = 10
SIGNUP_THROTTLE_WINDOW = timedelta(hours=1)


class SignupError(PortalAccessError):
    """A sign-up step that cannot go ahead; the message says why."""


class SignupClosedError(SignupError):
    """The organisation does not let customers sign up themselves."""


class SignupThrottledError(SignupError):
    """Too many sign-up requests for this e-mail or from this client."""


class SignupLinkError(SignupError):
    """A verification link that cannot be used (forged, used, expired)."""


@dataclass(frozen=True)
class SignupData:
    """What a person types on the sign-up form."""

    customer_type: str  # CustomerType
    company_name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    portal_language: str

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def display_name(self) -> str:
        if self.customer_type == CustomerType.BUSINESS and self.company_name:
            return self.company_name
        return self.full_name

    @classmethod
    def from_request(cls, signup_request: SignupRequest) -> "SignupData":
        fields = {name: signup_request.data.get(name, "") for name in cls.__dataclass_fields__}
        return cls(**{**fields, "email": signup_request.email})


def _closed_error(organization: Organization) -> SignupClosedError:
    return SignupClosedError(
        _("%(organization)s does not take sign-ups on its portal. Ask them for an invitation.")
        % {"organization": organization.name}
    )


def _signup_settings(organization: Organization) -> PortalSettings:
    portal_settings = portal_settings_get(organization=organization)
    if not portal_settings.allow_self_signup:
        raise _closed_error(organization)
    return portal_settings


def _client_key(client_address: str) -> str:
    return hash_token(f"signup-client:{client_address}") if client_address else ""


def _check_throttle(*, organization: Organization, email: str, client_key: str) -> None:
    since = timezone.now() - SIGNUP_THROTTLE_WINDOW
    recent = SignupRequest.objects.filter(created_at__gte=since)
    too_many = (
        recent.filter(organization=organization, email__iexact=email).count()
        >= SIGNUP_REQUESTS_PER_EMAIL
    )
    if not too_many and client_key:
        too_many = recent.filter(data__client=client_key).count() >= SIGNUP_REQUESTS_PER_CLIENT
    if too_many:
        raise SignupThrottledError(
            _("Too many sign-up requests. Check your inbox for the e-mail, or try again later.")
        )


def _accesses_of_email(*, organization: Organization, email: str):
    return PortalAccess.objects.filter(organization=organization).filter(
        Q(user__email__iexact=email) | Q(contact__email__iexact=email)
    )


def _already_signed_up_error() -> SignupError:
    # Says no more than that this address can sign in here: no customer name.
    return SignupError(
        _(
            "This e-mail address can already sign in to this portal. Sign in instead, "
            "or reset your password if you have forgotten it."
        ),
        field="email",
    )


def _check_email_may_sign_up(*, organization: Organization, email: str) -> None:
    accesses = _accesses_of_email(organization=organization, email=email)
    if accesses.filter(status=AccessStatus.ACTIVE).exists():
        raise _already_signed_up_error()
    if accesses.filter(status=AccessStatus.DISABLED).exists():
        # Staff ended this person's access: signing up again must not undo it.
        raise SignupError(
            _("This e-mail address cannot sign up for this portal. Contact %(organization)s.")
            % {"organization": organization.name},
            field="email",
        )


def signup_request_create(
    *, organization: Organization, data: SignupData, client_address: str = ""
) -> SignupRequest:
    """Record a sign-up and e-mail the link that verifies its address.

    Raises SignupClosedError, SignupThrottledError, or SignupError (field
    "email") for an address that can already sign in to this portal.
    """
    _signup_settings(organization)
    email = data.email.strip().lower()
    data = SignupData(**{**asdict(data), "email": email})
    client_key = _client_key(client_address)
    _check_throttle(organization=organization, email=email, client_key=client_key)
    _check_email_may_sign_up(organization=organization, email=email)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = timezone.now() + SIGNUP_LINK_LIFETIME
    stored = {name: value for name, value in asdict(data).items() if name != "email"}
    with transaction.atomic():
        signup_request = SignupRequest.objects.create(
            organization=organization,
            email=email,
            data={**stored, "client": client_key},
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
        email_queue(
            organization=organization,
            kind="portal_access.signup_verify",
            to_email=email,
            to_name=data.full_name,
            template="portal_access/email/signup_verify",
            context={
                "first_name": data.first_name,
                "display_name": data.display_name,
                "portal_home_url": portal_url(organization=organization),
                "expires_at": expires_at,
            },
            secrets={
                "verify_url": portal_url(
                    organization=organization, name="portal:signup_verify", token=token
                )
            },
            language=data.portal_language,
        )
    return signup_request


def signup_request_resolve(*, organization: Organization, token: str) -> SignupRequest:
    """The sign-up a verification link's token names, if it may still be used.

    Raises SignupClosedError or SignupLinkError with a message for the person.
    """
    _signup_settings(organization)
    signup_request = SignupRequest.objects.filter(
        organization=organization, token_hash=hash_token(token)
    ).first()
    if signup_request is None:
        raise SignupLinkError(_("This sign-up link is not valid."))
    if signup_request.completed_at is not None:
        raise SignupLinkError(
            _("This sign-up link has already been used. Sign in with your e-mail and password.")
        )
    if signup_request.expires_at <= timezone.now():
        raise SignupLinkError(_("This sign-up link has expired. Sign up again for a new one."))
    return signup_request


def signup_complete(
    *, organization: Organization, token: str, password: str = "", user: User | None = None
) -> PortalAccess:
    """Finish a verified sign-up: customer, primary contact, account, active access.

    ``user`` is the signed-in person (their e-mail must be the one verified);
    otherwise a new account is made with ``password``, or an existing account
    with the same e-mail is linked once ``password`` is its password.
    """
    try:
        with transaction.atomic():
            access = _signup_complete(
                organization=organization, token=token, password=password, user=user
            )
    except IntegrityError as error:
        # A concurrent sign-up or invitation gave this person access first.
        raise _already_signed_up_error() from error
    return access


def _signup_complete(
    *, organization: Organization, token: str, password: str, user: User | None
) -> PortalAccess:
    _signup_settings(organization)
    found = signup_request_resolve(organization=organization, token=token)
    signup_request = SignupRequest.objects.select_for_update().get(pk=found.pk)
    if signup_request.completed_at is not None:  # used while we were waiting for the lock
        raise SignupLinkError(_("This sign-up link has already been used."))
    email = signup_request.email
    data = SignupData.from_request(signup_request)
    _check_email_may_sign_up(organization=organization, email=email)
    user = _signup_user(data=data, password=password, user=user)
    customer = customer_create(
        organization=organization,
        customer_type=data.customer_type,
        display_name=data.display_name,
        company_name=data.company_name if data.customer_type == CustomerType.BUSINESS else "",
        email=email,
        phone=data.phone,
        portal_language=data.portal_language,
        contacts=[
            ContactData(
                first_name=data.first_name,
                last_name=data.last_name,
                email=email,
                phone=data.phone,
                is_primary=True,
            )
        ],
    )
    contact = customer.contacts.get()
    now = timezone.now()
    access = PortalAccess.objects.create(
        organization=organization,
        customer=customer,
        contact=contact,
        status=AccessStatus.ACTIVE,
        user=user,
        accepted_at=now,
    )
    # This link and every other pending one for the address are used up.
    SignupRequest.objects.filter(
        organization=organization, email__iexact=email, completed_at=None
    ).update(completed_at=now)
    activity_record(
        organization=organization,
        kind=EventKind.SIGNED_UP,
        customer=customer,
        contact=contact,
        actor=user,
    )
    return access


def _signup_user(*, data: SignupData, password: str, user: User | None) -> User:
    if user is not None:
        if user.email.lower() != data.email.lower():
            raise SignupError(
                _("This sign-up is for %(email)s. Sign out and open the link again.")
                % {"email": data.email}
            )
        return user
    existing = User.objects.filter(email__iexact=data.email).first()
    if existing is None:
        if not password:
            raise SignupError(_("Choose a password."), field="password")
        return User.objects.create_user(
            data.email, password, full_name=data.full_name, language=data.portal_language
        )
    if not password or not existing.check_password(password) or not existing.is_active:
        raise SignupError(
            _("You already have a Portico account: enter its password."), field="password"
        )
    return existing
