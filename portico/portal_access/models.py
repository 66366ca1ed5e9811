"""Who may use an organisation's customer portal, and how they got in.

A contact person gets portal access through an invitation (or self sign-up).
Only a SHA-256 hash of each invitation token is stored; a token is single
use, expires after the organisation's invitation lifetime, and a reinvite
supersedes every earlier token of that contact.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel, TimeStampedModel


class PortalModule(models.TextChoices):
    QUOTES = "quotes", _("Quotes")
    SALES_ORDERS = "sales_orders", _("Sales orders")
    INVOICES = "invoices", _("Invoices")
    PAYMENTS = "payments", _("Payments")
    CREDIT_NOTES = "credit_notes", _("Credit notes")
    STATEMENT = "statement", _("Statement")
    PROJECTS = "projects", _("Projects and timesheets")


def all_modules() -> list[str]:
    return list(PortalModule.values)


class PortalSettings(TimeStampedModel):
    """One organisation's portal settings (Settings → Customer portal)."""

    organization = models.OneToOneField(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="portal_settings",
        verbose_name=_("organisation"),
    )
    allow_self_signup = models.BooleanField(
        _("Allow customers to sign up for the portal"), default=False
    )
    banner_message = models.TextField(_("Banner message"), blank=True)
    notify_by_email = models.BooleanField(
        _("Notify me about portal activity by e-mail"), default=True
    )
    notify_in_app = models.BooleanField(
        _("Notify me about portal activity in the app"), default=True
    )
    email_customers_on_comment = models.BooleanField(
        _("E-mail customers when I comment"), default=True
    )
    allow_customers_edit_details = models.BooleanField(
        _("Allow customers to edit their details"), default=True
    )
    modules = models.JSONField(_("modules shown in the portal"), default=all_modules)
    invitation_lifetime_days = models.PositiveSmallIntegerField(
        _("Invitation lifetime (days)"), default=7
    )
    require_two_factor = models.BooleanField(
        _("Require two-factor authentication for portal users"), default=False
    )
    show_void_documents = models.BooleanField(_("Show void documents in the portal"), default=False)

    class Meta:
        verbose_name = _("portal settings")
        verbose_name_plural = _("portal settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(invitation_lifetime_days__gte=1) & Q(invitation_lifetime_days__lte=90),
                name="portal_invitation_lifetime_range",
            )
        ]

    def __str__(self) -> str:
        return f"Portal settings of {self.organization_id}"


class PortalNameHistory(TimeStampedModel):
    """An earlier portal name: /portal/<old-name>/… redirects to the current one."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="portal_name_history"
    )
    portal_name = models.SlugField(_("earlier portal name"), max_length=63, unique=True)

    class Meta:
        verbose_name = _("earlier portal name")
        verbose_name_plural = _("earlier portal names")

    def __str__(self) -> str:
        return self.portal_name


class AccessStatus(models.TextChoices):
    NOT_INVITED = "not_invited", _("Not invited")
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")
    # Shown, never stored: invited, but the latest invitation has expired.
    EXPIRED = "expired", _("Expired")


class PortalAccess(OrganizationOwnedModel):
    """One contact person's access to the organisation's portal."""

    contact = models.OneToOneField(
        "customers.ContactPerson",
        on_delete=models.CASCADE,
        related_name="portal_access",
        verbose_name=_("contact person"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="portal_accesses",
        verbose_name=_("customer"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=AccessStatus.choices, default=AccessStatus.NOT_INVITED
    )
    # Set once the contact accepts (or signs up): the account they sign in with.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portal_accesses",
        verbose_name=_("user"),
    )
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    invitation_expires_at = models.DateTimeField(_("invitation expires"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    # Per-contact permissions: the modules this contact sees, within those the
    # organisation shows (empty list = all the organisation shows).
    modules = models.JSONField(_("modules"), default=list, blank=True)
    # The contact's own choice of language in the portal ("" = the customer's
    # portal language).
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        verbose_name = _("portal access")
        verbose_name_plural = _("portal accesses")
        indexes = [
            models.Index(fields=["organization", "customer"], name="portal_access_cust_idx"),
            models.Index(fields=["organization", "user"], name="portal_access_user_idx"),
        ]
        constraints = [
            # A person has at most one active access per organisation.
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=Q(status="active"),
                name="portal_access_one_active_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.status}"

    @property
    def display_status(self) -> str:
        if (
            self.status == AccessStatus.INVITED
            and self.invitation_expires_at
            and self.invitation_expires_at <= timezone.now()
        ):
            return AccessStatus.EXPIRED
        return self.status

    def get_display_status_display(self) -> str:
        return AccessStatus(self.display_status).label

    @property
    def effective_language(self) -> str:
        """The portal's language for this contact: their own choice, else the customer's."""
        return self.language or self.customer.portal_language


class PortalInvitation(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    access = models.ForeignKey(PortalAccess, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("portal invitation")
        verbose_name_plural = _("portal invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation {self.pk} for access {self.access_id}"


class BulkInviteStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BulkInvite(OrganizationOwnedModel):
    """Customers list → More → Enable portal, carried out by the worker."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Either the ticked customer ids or the list's filters (all matching).
    customer_ids = models.JSONField(default=list, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    all_matching = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=BulkInviteStatus.choices, default=BulkInviteStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    invited = models.PositiveIntegerField(default=0)
    skipped_no_contact = models.PositiveIntegerField(default=0)
    skipped_no_email = models.PositiveIntegerField(default=0)
    skipped_already = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("bulk portal invitation")
        verbose_name_plural = _("bulk portal invitations")

    def __str__(self) -> str:
        return f"bulk invite {self.pk}"


class TwoFactorDevice(TimeStampedModel):
    """A person's TOTP authenticator (RFC 6238), used when signing in to a portal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_device"
    )
    # Base32 secret shared with the authenticator app. Stored as is (like
    # django-otp); the database is the trust boundary for it.
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted, so a code cannot be replayed.
    last_used_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self) -> str:
        return f"TOTP for {self.user_id}"


class RecoveryCode(TimeStampedModel):
    """A single-use code that replaces a TOTP code; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk}"


class SignupRequest(TimeStampedModel):
    """A self sign-up waiting for its e-mail to be verified (hash of the token only)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    data = models.JSONField(default=dict)  # company/individual, names, language …
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("portal sign-up request")
        verbose_name_plural = _("portal sign-up requests")

    def __str__(self) -> str:
        return self.email
