from django import forms
from django.utils.translation import gettext_lazy as _

from portico.portal_access.staff_selectors import ContactPortalStatus


class ConfigurePortalAccessForm(forms.Form):
    """Configure portal access: the ticked contact persons of one customer."""

    contacts = forms.TypedMultipleChoiceField(
        label=_("Contact persons"),
        coerce=int,
        required=False,
        error_messages={
            "invalid_choice": _("A contact person in this form does not belong to this customer.")
        },
    )

    def __init__(self, *args, rows: list[ContactPortalStatus], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.fields["contacts"].choices = [(row.contact.pk, row.contact.full_name) for row in rows]
        self.initial["contacts"] = [row.contact.pk for row in rows if row.granted]

    def clean_contacts(self) -> set[int]:
        return set(self.cleaned_data["contacts"])

    def checked_ids(self) -> set[int]:
        """The ticked contacts as shown: as submitted, or as they are now."""
        values = self["contacts"].value() or []
        return {int(value) for value in values if str(value).isdigit()}
