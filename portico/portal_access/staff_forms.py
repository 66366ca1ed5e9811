from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.portal_access.models import PortalModule, all_modules
from portico.portal_access.staff_selectors import ContactPortalStatus


@dataclass(frozen=True)
class ContactRow:
    """A contact's row in the dialog: their portal status and module checkboxes."""

    status: ContactPortalStatus
    modules: forms.BoundField

    @property
    def chosen_modules(self) -> list[str]:
        return [str(value) for value in (self.modules.value() or [])]

    @property
    def limited(self) -> bool:
        return set(self.chosen_modules) != set(PortalModule.values)

    @property
    def modules_summary(self) -> str:
        """ "All modules", or the chosen ones' names."""
        if not self.limited:
            return str(_("All modules"))
        chosen = self.chosen_modules
        labels = [str(label) for value, label in PortalModule.choices if value in chosen]
        return ", ".join(labels) or str(_("None"))


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

    # The contacts whose module checkboxes were in the form (a contact left
    # out keeps their modules; one shown with none ticked has none).
    modules_shown = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(
        self,
        *args,
        rows: list[ContactPortalStatus],
        organization_modules: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.organization_modules = (
            all_modules() if organization_modules is None else organization_modules
        )
        choices = [(row.contact.pk, row.contact.full_name) for row in rows]
        self.fields["contacts"].choices = choices
        self.fields["modules_shown"].choices = choices
        self.initial["contacts"] = [row.contact.pk for row in rows if row.granted]
        for row in rows:
            name = self._modules_name(row.contact.pk)
            self.fields[name] = forms.MultipleChoiceField(
                label=_("Modules"),
                choices=self._module_choices(),
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            # No limit stored ([]) shows every module ticked.
            self.initial[name] = (row.access.modules if row.access else None) or all_modules()

    def _module_choices(self) -> list[tuple[str, str]]:
        hidden = _("hidden for every customer in Settings → Customer portal")
        return [
            (value, label if value in self.organization_modules else f"{label} ({hidden})")
            for value, label in PortalModule.choices
        ]

    @staticmethod
    def _modules_name(contact_id: int) -> str:
        return f"modules_{contact_id}"

    @property
    def contact_rows(self) -> list[ContactRow]:
        return [
            ContactRow(status=row, modules=self[self._modules_name(row.contact.pk)])
            for row in self.rows
        ]

    def modules_by_contact(self) -> dict[int, list[str]]:
        """Contact id → the modules ticked for them (only contacts shown with checkboxes)."""
        shown = set(self.cleaned_data.get("modules_shown") or [])
        return {
            row.contact.pk: list(self.cleaned_data[self._modules_name(row.contact.pk)])
            for row in self.rows
            if row.contact.pk in shown
        }

    def clean_contacts(self) -> set[int]:
        return set(self.cleaned_data["contacts"])

    def checked_ids(self) -> set[int]:
        """The ticked contacts as shown: as submitted, or as they are now."""
        values = self["contacts"].value() or []
        return {int(value) for value in values if str(value).isdigit()}
