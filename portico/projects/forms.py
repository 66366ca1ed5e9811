import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.accounts.models import Organization
from portico.customers.models import Customer
from portico.projects.models import ProjectStatus
from portico.projects.selectors import staff_members
from portico.projects.services import MAX_HOURS, MIN_HOURS, ProjectData, TimeEntryData
from portico.sales.forms import CustomerPickerWidget

HOURS_AND_MINUTES = re.compile(r"^\s*(\d{1,2}):([0-5]\d)\s*$")


class ProjectForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), widget=CustomerPickerWidget
    )
    name = forms.CharField(label=_("Project name"), max_length=200)
    code = forms.CharField(
        label=_("Project code"),
        max_length=32,
        required=False,
        help_text=_("Printed on invoices as their reference."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    hourly_rate = forms.DecimalField(
        label=_("Hourly rate"),
        max_digits=18,
        decimal_places=4,
        min_value=Decimal(0),
        initial=Decimal(0),
        help_text=_("In the customer's currency."),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=ProjectStatus.choices, initial=ProjectStatus.ACTIVE
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.filter(organization=organization)
        self.fields["customer"].queryset = customers
        # The picker's select holds only the chosen customer; typing searches.
        chosen = self.data.get(self.add_prefix("customer")) or self.initial.get("customer")
        chosen_id = getattr(chosen, "pk", chosen)
        self.chosen_customer = (
            customers.filter(pk=chosen_id).first() if str(chosen_id or "").isdigit() else None
        )
        self.fields["customer"].widget.choices = (
            [
                (
                    self.chosen_customer.pk,
                    f"{self.chosen_customer.display_name} ({self.chosen_customer.currency})",
                )
            ]
            if self.chosen_customer
            else [("", _("Search for a customer…"))]
        )

    def project_data(self) -> ProjectData:
        data = self.cleaned_data
        return ProjectData(
            customer_id=data["customer"].pk,
            name=data["name"],
            code=data.get("code", ""),
            description=data.get("description", ""),
            hourly_rate=data["hourly_rate"],
            status=data["status"],
        )


class HoursField(forms.DecimalField):
    """Hours as a decimal (1.5) or as hours and minutes (1:30)."""

    def to_python(self, value):
        match = HOURS_AND_MINUTES.match(str(value or ""))
        if match:
            hours, minutes = int(match[1]), int(match[2])
            try:
                return (Decimal(hours) + Decimal(minutes) / 60).quantize(Decimal("0.01"))
            except InvalidOperation:  # pragma: no cover - the pattern keeps it small
                pass
        return super().to_python(value)


class TimeEntryForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    user = forms.TypedChoiceField(label=_("Staff member"), coerce=int)
    task = forms.CharField(label=_("Task"), max_length=200)
    hours = HoursField(
        label=_("Hours"),
        decimal_places=2,
        validators=[
            MinValueValidator(MIN_HOURS, _("Hours must be between 0.01 and 24.")),
            MaxValueValidator(MAX_HOURS, _("Hours must be between 0.01 and 24.")),
        ],
        help_text=_("1.5 or 1:30"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)

    def __init__(self, *args, organization: Organization, current_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (membership.user_id, membership.user.get_full_name())
            for membership in staff_members(organization=organization)
        ]
        # Someone who has left the organisation stays on the time they logged.
        if current_user is not None and current_user.pk not in {pk for pk, _label in choices}:
            choices.append((current_user.pk, current_user.get_full_name()))
        self.fields["user"].choices = choices

    def entry_data(self) -> TimeEntryData:
        data = self.cleaned_data
        return TimeEntryData(
            date=data["date"],
            user_id=data["user"],
            task=data["task"],
            hours=data["hours"],
            notes=data.get("notes", ""),
            billable=data.get("billable", False),
        )


class InvoiceHoursForm(forms.Form):
    group_by = forms.ChoiceField(
        label=_("Invoice lines"),
        choices=[("task", _("One line per task")), ("entry", _("One line per time entry"))],
        initial="task",
        widget=forms.RadioSelect,
    )
    approved_only = forms.BooleanField(label=_("Only time the customer approved"), required=False)
