from django import forms
from django.utils.translation import gettext_lazy as _

from portico.activity.models import Channel, EventKind


class NotificationFilterForm(forms.Form):
    """The Notifications page's filters (GET); anything invalid is ignored."""

    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *EventKind.choices]
    )
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1)
    unread = forms.BooleanField(label=_("Unread only"), required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {"kind": "", "customer_id": None, "unread_only": False}
        return {
            "kind": self.cleaned_data["kind"],
            "customer_id": self.cleaned_data["customer"],
            "unread_only": self.cleaned_data["unread"],
        }


class NotificationPreferencesForm(forms.Form):
    """A channel per event type (initially the member's, else the organisation's
    default) and whether to hear only about the customers one owns."""

    only_my_customers = forms.BooleanField(
        label=_("Only about customers I own"),
        required=False,
        help_text=_("Customers without an owner, or owned by a colleague, stay quiet for you."),
    )

    def __init__(self, *args, default_channel: str, channels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.default_channel = default_channel
        for kind, label in EventKind.choices:
            self.fields[f"channel_{kind}"] = forms.ChoiceField(
                label=label,
                choices=Channel.choices,
                widget=forms.RadioSelect,
                initial=channels.get(kind, default_channel),
            )

    def channel_rows(self):
        """(event type label, its radio buttons) for the table, in EventKind order."""
        return [(self[f"channel_{kind}"]) for kind in EventKind.values]

    def channels(self) -> dict[str, str]:
        return {kind: self.cleaned_data[f"channel_{kind}"] for kind in EventKind.values}
