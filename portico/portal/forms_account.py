"""Forms of the contact's own pages: statement period, time approval, details,
contact persons and language. They check the input's shape and size; the
services (portico.portal.account_services) decide the rest."""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from portico.customers.models import ContactPerson, Customer
from portico.payments.forms import StatementForm
from portico.portal.account_services import DETAIL_FIELDS, PORTAL_CONTACT_FIELDS

# --- statement of account ---------------------------------------------------------------

PRESET_THIS_MONTH = "this_month"
PRESET_LAST_MONTH = "last_month"
PRESET_THIS_YEAR = "this_year"
PRESET_ALL = "all"
PRESETS = [
    (PRESET_THIS_MONTH, _("This month")),
    (PRESET_LAST_MONTH, _("Last month")),
    (PRESET_THIS_YEAR, _("This year")),
    (PRESET_ALL, _("All")),
]


def preset_period(preset: str, *, first_date: date | None) -> tuple[date, date]:
    """The dates of a preset period, today in the organisation's time zone."""
    today = timezone.localdate()
    if preset == PRESET_LAST_MONTH:
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if preset == PRESET_THIS_YEAR:
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    if preset == PRESET_ALL:
        start = min(first_date or today, today)
        # A statement covers at most ten years (the form's limit).
        return max(start, today - timedelta(days=3650)), today
    return StatementForm.this_month()


# --- time approval ---------------------------------------------------------------------

MAX_ENTRIES_PER_APPROVAL = 500


class EntryIdsField(forms.Field):
    """The ids of the ticked time entries (checkboxes named ``entries``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = [str(item).strip() for item in value or [] if str(item).strip()]
        if len(values) > MAX_ENTRIES_PER_APPROVAL:
            raise forms.ValidationError(
                _("Approve at most %(count)s time entries at a time."),
                params={"count": MAX_ENTRIES_PER_APPROVAL},
            )
        if not all(item.isdigit() for item in values):
            raise forms.ValidationError(_("Tick time entries from the list."))
        return sorted({int(item) for item in values})


class TimeApprovalForm(forms.Form):
    entries = EntryIdsField(error_messages={"required": _("Tick the time entries to approve.")})


# --- the customer's details -------------------------------------------------------------


class CustomerDetailsForm(forms.Form):
    """The customer's name, company, phone and addresses, as the Customer model has them."""

    def __init__(self, *args, customer: Customer, **kwargs):
        initial = {name: getattr(customer, name) for name in DETAIL_FIELDS}
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(forms.fields_for_model(Customer, fields=DETAIL_FIELDS))
        self.fields["display_name"].label = _("Name")
        self.fields["display_name"].help_text = _("How your documents are addressed.")
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    @property
    def main_fields(self):
        return [self[name] for name in ("display_name", "company_name", "phone")]

    @property
    def billing_fields(self):
        return [self[name] for name in DETAIL_FIELDS if name.startswith("billing_")]

    @property
    def shipping_fields(self):
        return [self[name] for name in DETAIL_FIELDS if name.startswith("shipping_")]


class ContactPersonForm(forms.Form):
    """A contact person of the customer: name, e-mail, phones, job title."""

    def __init__(self, *args, contact: ContactPerson | None = None, lock_email=False, **kwargs):
        initial = (
            {name: getattr(contact, name) for name in PORTAL_CONTACT_FIELDS} if contact else {}
        )
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(forms.fields_for_model(ContactPerson, fields=PORTAL_CONTACT_FIELDS))
        self.fields["email"].max_length = 254
        self.fields["email"].widget.attrs["maxlength"] = 254
        if lock_email:
            self.fields["email"].disabled = True
            self.fields["email"].help_text = _(
                "This person signs in to the portal with this e-mail; it cannot be changed here."
            )


# --- language -------------------------------------------------------------------------------


def language_choices(*, customer_language: str) -> list[tuple[str, str]]:
    """Each language in its own name ("Deutsch", "Français" …), after the
    customer's default."""
    default = capfirst(get_language_info(customer_language)["name_local"])
    choices = [("", _("Default (%(language)s)") % {"language": default})]
    for code, _name in settings.LANGUAGES:
        choices.append((code, capfirst(get_language_info(code)["name_local"])))
    return choices


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, customer_language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(customer_language=customer_language)
