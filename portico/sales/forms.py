"""Forms shared by every sales document: header fields, customer picker, lines."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portico.accounts.models import Organization
from portico.catalog.models import Item, Tax
from portico.customers.models import ContactPerson, Customer
from portico.sales.services.common import DocumentData, LineData


class CustomerPickerWidget(forms.Select):
    """A select holding only the chosen customer; a search box next to it
    (customers/partials/_customer_picker.html) fills it with matches, so the
    page stays small with 100,000 customers."""

    template_name = "sales/widgets/customer_picker.html"


class LineChoices:
    """Active items and taxes of an organisation, loaded once per form page.

    Every line shares them, so a document with 200 lines still costs two
    queries for its pickers, not 400.
    """

    def __init__(self, organization: Organization, *, keep_item_ids=(), keep_tax_ids=()):
        # Inactive ones stay choosable on the lines that already use them.
        items = Item.objects.filter(organization=organization).filter(
            Q(is_active=True) | Q(pk__in=list(keep_item_ids))
        )
        taxes = Tax.objects.filter(organization=organization).filter(
            Q(is_active=True) | Q(pk__in=list(keep_tax_ids))
        )
        self.items = {item.pk: item for item in items.order_by("name", "id")}
        self.taxes = {tax.pk: tax for tax in taxes.order_by("name", "id")}

    def item_choices(self):
        return [("", _("Free text"))] + [(pk, item.name) for pk, item in self.items.items()]

    def tax_choices(self):
        return [("", _("No tax"))] + [(pk, str(tax)) for pk, tax in self.taxes.items()]


class ItemSelect(forms.Select):
    """Item options carry their rate, unit, tax and description for the form's script."""

    def __init__(self, *args, items: dict[int, Item] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        item = self.items.get(int(value)) if str(value).isdigit() else None
        if item is not None:
            option["attrs"].update(
                {
                    "data-rate": format(item.rate.normalize(), "f"),
                    "data-unit": item.unit,
                    "data-tax": item.tax_id or "",
                    "data-description": item.description or item.name,
                }
            )
        return option


class TaxSelect(forms.Select):
    def __init__(self, *args, taxes: dict[int, Tax] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.taxes = taxes or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        tax = self.taxes.get(int(value)) if str(value).isdigit() else None
        if tax is not None:
            option["attrs"]["data-rate"] = format(tax.rate.normalize(), "f")
        return option


class LineForm(forms.Form):
    item = forms.TypedChoiceField(label=_("Item"), coerce=int, required=False, empty_value=None)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": _("Description")}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=14,
        decimal_places=4,
        initial=Decimal(1),
        validators=[
            MinValueValidator(Decimal("0.0001"), _("The quantity must be more than zero."))
        ],
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Unit")}),
    )
    rate = forms.DecimalField(
        label=_("Rate"),
        max_digits=18,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0), _("The rate cannot be negative."))],
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"),
        max_digits=6,
        decimal_places=3,
        required=False,
        initial=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    tax = forms.TypedChoiceField(label=_("Tax"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, choices: LineChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = choices.item_choices()
        self.fields["item"].widget = ItemSelect(
            choices=self.fields["item"].choices, items=choices.items
        )
        self.fields["tax"].choices = choices.tax_choices()
        self.fields["tax"].widget = TaxSelect(
            choices=self.fields["tax"].choices, taxes=choices.taxes
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("item") and not (cleaned.get("description") or "").strip():
            self.add_error("description", _("Choose an item or describe the line."))
        return cleaned

    def to_data(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            item_id=data.get("item"),
            description=data.get("description") or "",
            quantity=data["quantity"],
            unit=data.get("unit") or "",
            rate=data["rate"],
            discount_percent=data.get("discount_percent") or Decimal(0),
            tax_id=data.get("tax"),
        )


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, organization: Organization, **kwargs):
        self.organization = organization
        initial = kwargs.get("initial") or []
        self.choices = LineChoices(
            organization,
            keep_item_ids={row["item"] for row in initial if row.get("item")},
            keep_tax_ids={row["tax"] for row in initial if row.get("tax")},
        )
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "choices": self.choices}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            choices=self.choices,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def kept_forms(self) -> list[LineForm]:
        # A document's existing lines are kept even when unchanged; a blank
        # extra row is left out.
        return [
            form
            for index, form in enumerate(self.forms)
            if (index < self.initial_form_count() or form.has_changed())
            and not (self.can_delete and self._should_delete_form(form))
        ]

    def clean(self):
        if any(self.errors):
            return
        if not self.kept_forms():
            raise forms.ValidationError(_("Add at least one line."))

    def lines(self) -> list[LineData]:
        return [form.to_data() for form in self.kept_forms()]


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=0, can_delete=True, max_num=200, validate_max=True
)


def _plain(value: Decimal) -> Decimal:
    """1200.0000 → 1200, not 1.2E+3 as ``normalize()`` alone gives: number
    inputs show it as typed."""
    return Decimal(format(value.normalize(), "f"))


def line_formset(data=None, *, organization: Organization, document=None) -> BaseLineFormSet:
    """The lines of ``document`` (or one blank line for a new document)."""
    initial = []
    if document is not None and document.pk:
        initial = [
            {
                "item": line.item_id,
                "description": line.description,
                "quantity": _plain(line.quantity),
                "unit": line.unit,
                "rate": _plain(line.rate),
                "discount_percent": _plain(line.discount_percent),
                "tax": line.tax_id,
            }
            for line in document.lines.all()
        ]
    formset_class = LineFormSet
    if not initial:
        formset_class = forms.formset_factory(
            LineForm, formset=BaseLineFormSet, extra=1, can_delete=True, max_num=200
        )
    return formset_class(data, initial=initial, prefix="lines", organization=organization)


class DocumentForm(forms.Form):
    """Header fields every sales document has; subclasses add their own."""

    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), widget=CustomerPickerWidget
    )
    date = forms.DateField(
        label=_("Date"),
        # An <input type="date"> takes ISO dates only, in every language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    contacts = forms.ModelMultipleChoiceField(
        label=_("Send to"),
        queryset=ContactPerson.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Customer notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    terms = forms.CharField(
        label=_("Terms and conditions"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        customers = Customer.objects.filter(organization=organization)
        self.fields["customer"].queryset = customers
        # The picker's select holds only the chosen customer (or none).
        chosen = self.data.get(self.add_prefix("customer")) or self.initial.get("customer")
        chosen_id = getattr(chosen, "pk", chosen)
        self.chosen_customer = (
            customers.filter(pk=chosen_id).first() if str(chosen_id or "").isdigit() else None
        )
        self.fields["customer"].widget.choices = (
            [(self.chosen_customer.pk, self.chosen_customer.display_name)]
            if self.chosen_customer
            else [("", _("Search for a customer…"))]
        )
        contacts = ContactPerson.objects.filter(organization=organization)
        self.fields["contacts"].queryset = contacts
        self.contact_choices = (
            list(contacts.filter(customer=self.chosen_customer)) if self.chosen_customer else []
        )
        self.fields["contacts"].widget.choices = [
            (
                contact.pk,
                f"{contact.full_name} <{contact.email}>" if contact.email else contact.full_name,
            )
            for contact in self.contact_choices
        ]

    # Names of a document type's own header fields (expiry date, due date …),
    # shown beside date and reference by sales/partials/_document_header_fields.html.
    extra_header_field_names: tuple[str, ...] = ()

    @property
    def extra_header_fields(self):
        return [self[name] for name in self.extra_header_field_names]

    def clean_contacts(self):
        contacts = self.cleaned_data["contacts"]
        customer = self.cleaned_data.get("customer")
        if customer and any(contact.customer_id != customer.pk for contact in contacts):
            raise forms.ValidationError(_("Choose contact persons of this customer."))
        return contacts

    def document_data(self, lines: list[LineData]) -> DocumentData:
        data = self.cleaned_data
        return DocumentData(
            customer_id=data["customer"].pk,
            date=data["date"],
            reference=data.get("reference", ""),
            notes=data.get("notes", ""),
            terms=data.get("terms", ""),
            contact_ids=[contact.pk for contact in data.get("contacts", [])],
            lines=lines,
        )
