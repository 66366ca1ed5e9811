from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel


class CustomerType(models.TextChoices):
    BUSINESS = "business", _("Business")
    INDIVIDUAL = "individual", _("Individual")


class PaymentTerms(models.IntegerChoices):
    DUE_ON_RECEIPT = 0, _("Due on receipt")
    NET_7 = 7, _("Net 7")
    NET_15 = 15, _("Net 15")
    NET_30 = 30, _("Net 30")
    NET_45 = 45, _("Net 45")
    NET_60 = 60, _("Net 60")
    NET_90 = 90, _("Net 90")


ADDRESS_FIELDS = [
    "attention",
    "street",
    "street2",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
]


class Customer(OrganizationOwnedModel):
    customer_type = models.CharField(
        _("customer type"),
        max_length=12,
        choices=CustomerType.choices,
        default=CustomerType.BUSINESS,
    )
    display_name = models.CharField(_("display name"), max_length=200)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    payment_terms = models.PositiveSmallIntegerField(
        _("payment terms"), choices=PaymentTerms.choices, default=PaymentTerms.NET_30
    )
    # The staff member who looks after this customer (notifications can be
    # limited to one's own customers).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer owner"),
    )
    portal_language = models.CharField(
        _("portal language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Case-folded names, e-mails and phones of the customer and its contacts:
    # one indexed-scan column keeps search a single query at any size.
    search_text = models.TextField(editable=False, default="")
    # Raised by database triggers whenever anything the customer's portal
    # pages show changes (portico/portal/versions.py): cached portal pages
    # are keyed by it, so a change is seen at the next request.
    portal_version = models.PositiveBigIntegerField(editable=False, default=0)

    # Billing and shipping addresses, embedded: every document copies them.
    billing_attention = models.CharField(_("attention"), max_length=150, blank=True)
    billing_street = models.CharField(_("street"), max_length=255, blank=True)
    billing_street2 = models.CharField(_("street (line 2)"), max_length=255, blank=True)
    billing_city = models.CharField(_("city"), max_length=100, blank=True)
    billing_state = models.CharField(_("state / region"), max_length=100, blank=True)
    billing_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    billing_country = models.CharField(_("country"), max_length=100, blank=True)
    billing_phone = models.CharField(_("phone"), max_length=40, blank=True)
    shipping_attention = models.CharField(_("attention"), max_length=150, blank=True)
    shipping_street = models.CharField(_("street"), max_length=255, blank=True)
    shipping_street2 = models.CharField(_("street (line 2)"), max_length=255, blank=True)
    shipping_city = models.CharField(_("city"), max_length=100, blank=True)
    shipping_state = models.CharField(_("state / region"), max_length=100, blank=True)
    shipping_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    shipping_country = models.CharField(_("country"), max_length=100, blank=True)
    shipping_phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # One index per sort of the customer list (selectors.SORTS), each ending
        # in is_active: the page, the active/inactive filter and the paginator's
        # COUNT(*) are read from the index alone, at any page depth.
        # PostgreSQL also has a trigram index on search_text (migration 0002).
        indexes = [
            models.Index(
                fields=["organization", "display_name", "id", "is_active"],
                name="cust_org_name_idx",
            ),
            models.Index(
                fields=["organization", "-created_at", "-id", "is_active"],
                name="cust_org_created_idx",
            ),
            models.Index(
                fields=["organization", "company_name", "display_name", "id", "is_active"],
                name="cust_org_company_idx",
            ),
            models.Index(
                fields=["organization", "email", "id", "is_active"], name="cust_org_email_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def address(self, kind: str) -> dict[str, str]:
        return {name: getattr(self, f"{kind}_{name}") for name in ADDRESS_FIELDS}

    def address_lines(self, kind: str) -> list[str]:
        a = self.address(kind)
        city_line = " ".join(part for part in (a["postal_code"], a["city"]) if part)
        lines = [a["attention"], a["street"], a["street2"], city_line, a["state"], a["country"]]
        return [line for line in lines if line]

    @property
    def billing_address_lines(self) -> list[str]:
        return self.address_lines("billing")

    @property
    def shipping_address_lines(self) -> list[str]:
        return self.address_lines("shipping")


class ContactPerson(OrganizationOwnedModel):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("customer"),
    )
    salutation = models.CharField(_("salutation"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    designation = models.CharField(_("designation"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["-is_primary", "first_name", "last_name", "id"]
        constraints = [
            models.UniqueConstraint(
                "customer",
                Lower("email"),
                condition=~Q(email=""),
                name="contact_email_unique_per_customer",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)
