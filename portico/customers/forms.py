from django import forms
from django.utils.translation import gettext_lazy as _

from portico.core.money import currency_choices
from portico.customers.models import ADDRESS_FIELDS, Customer
from portico.customers.services import ContactData, organization_members
from portico.portal_access.staff_selectors import portal_access_allowed

ADDRESS_FORM_FIELDS = [
    f"{kind}_{name}" for kind in ("billing", "shipping") for name in ADDRESS_FIELDS
]


class CustomerForm(forms.ModelForm):
    website = forms.URLField(
        label=_("Website"), required=False, assume_scheme="https", max_length=200
    )
    # Not a customer field: saving with it ticked invites the primary contact.
    allow_portal_access = forms.BooleanField(
        label=_("Allow portal access for this customer"),
        required=False,
        help_text=_(
            "Saving invites the primary contact person to the customer portal by e-mail. "
            "Unticking does not end anyone's access: use More → Configure portal access "
            "on the customer's page for that."
        ),
    )

    class Meta:
        model = Customer
        fields = [
            "customer_type",
            "display_name",
            "company_name",
            "email",
            "phone",
            "website",
            "currency",
            "payment_terms",
            "portal_language",
            "owner",
            "notes",
            *ADDRESS_FORM_FIELDS,
        ]
        widgets = {
            "customer_type": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"] = forms.ChoiceField(
            label=_("Currency"), choices=currency_choices(), initial=organization.base_currency
        )
        # The customer owner hears about the customer's portal activity when
        # they limit their notifications to their own customers.
        self.fields["owner"].queryset = organization_members(organization=organization)
        self.fields["owner"].label = _("Customer owner")
        self.fields["owner"].empty_label = _("No owner")
        self.fields["owner"].label_from_instance = lambda user: user.full_name or user.email
        if not self.instance.pk:
            # The unsaved instance's own values ("" and the model default "en")
            # are already in ``initial``: the organisation's choices win.
            self.initial["currency"] = self.initial.get("currency") or organization.base_currency
            self.initial["portal_language"] = organization.language
        else:
            self.initial["allow_portal_access"] = portal_access_allowed(customer=self.instance)

    @property
    def primary_fields(self):
        names = ["customer_type", "display_name", "company_name", "email", "phone", "website"]
        return [self[name] for name in names]

    @property
    def billing_fields(self):
        return [self[f"billing_{name}"] for name in ADDRESS_FIELDS]

    @property
    def shipping_fields(self):
        return [self[f"shipping_{name}"] for name in ADDRESS_FIELDS]

    @property
    def other_fields(self):
        names = (
            "currency",
            "payment_terms",
            "portal_language",
            "owner",
            "allow_portal_access",
            "notes",
        )
        return [self[name] for name in names]


class ContactForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    salutation = forms.CharField(label=_("Salutation"), max_length=20, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    designation = forms.CharField(label=_("Designation"), max_length=100, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def to_data(self) -> ContactData:
        data = {name: value for name, value in self.cleaned_data.items() if name != "DELETE"}
        return ContactData(**data)


class BaseContactFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        primaries = 0
        emails: dict[str, forms.Form] = {}
        for form in self.forms:
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.cleaned_data.get("is_primary"):
                primaries += 1
            email = (form.cleaned_data.get("email") or "").lower()
            if email:
                if email in emails:
                    form.add_error(
                        "email", _("Another contact person of this customer has this e-mail.")
                    )
                emails[email] = form
        if primaries > 1:
            raise forms.ValidationError(_("Only one contact person can be the primary contact."))

    def contacts(self) -> list[ContactData]:
        result = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue  # an untouched blank row
            result.append(form.to_data())
        return result


ContactFormSet = forms.formset_factory(
    ContactForm, formset=BaseContactFormSet, extra=0, can_delete=True, max_num=100
)
# A customer without contact persons starts with one blank row to fill in.
FirstContactFormSet = forms.formset_factory(
    ContactForm, formset=BaseContactFormSet, extra=1, can_delete=True, max_num=100
)


def contact_formset(data=None, *, customer: Customer | None) -> BaseContactFormSet:
    initial = contact_initial(customer)
    formset_class = ContactFormSet if initial else FirstContactFormSet
    return formset_class(data, initial=initial, prefix="contacts")


def contact_initial(customer: Customer | None) -> list[dict]:
    if customer is None:
        return []
    return [
        {
            "id": contact.pk,
            "salutation": contact.salutation,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "mobile": contact.mobile,
            "designation": contact.designation,
            "is_primary": contact.is_primary,
        }
        for contact in customer.contacts.all()
    ]
