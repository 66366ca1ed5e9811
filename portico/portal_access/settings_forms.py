"""Forms of Settings → Customer portal."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.portal_access.models import PortalModule, PortalSettings
from portico.portal_access.settings_services import (
    BANNER_MESSAGE_MAX_LENGTH,
    INVITATION_LIFETIME_MAX_DAYS,
    INVITATION_LIFETIME_MIN_DAYS,
    PORTAL_NAME_MAX_LENGTH,
    PORTAL_SETTINGS_FIELDS,
)


class PortalSettingsForm(forms.Form):
    allow_self_signup = forms.BooleanField(
        label=_("Allow customers to sign up for the portal"),
        required=False,
        help_text=_(
            "Anyone with the sign-up link can register as a new customer, "
            "after confirming their e-mail address."
        ),
    )
    banner_message = forms.CharField(
        label=_("Banner message"),
        required=False,
        max_length=BANNER_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown at the top of the portal's home page, as plain text."),
    )
    notify_by_email = forms.BooleanField(label=_("By e-mail"), required=False)
    notify_in_app = forms.BooleanField(label=_("In the app"), required=False)
    email_customers_on_comment = forms.BooleanField(
        label=_("E-mail customers when I comment"), required=False
    )
    allow_customers_edit_details = forms.BooleanField(
        label=_("Allow customers to edit their details"), required=False
    )
    modules = forms.MultipleChoiceField(
        label=_("Modules shown in the portal"),
        required=False,
        choices=PortalModule.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    show_void_documents = forms.BooleanField(
        label=_("Show void documents in the portal"),
        required=False,
        help_text=_(
            "Void invoices, sales orders and credit notes stay listed, marked Void. "
            "Drafts are never shown."
        ),
    )
    invitation_lifetime_days = forms.IntegerField(
        label=_("Invitation lifetime"),
        min_value=INVITATION_LIFETIME_MIN_DAYS,
        max_value=INVITATION_LIFETIME_MAX_DAYS,
        help_text=_(
            "Days an invitation link works (1 to 90). Applies to invitations sent from now on."
        ),
    )
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor authentication for portal users"),
        required=False,
        help_text=_("Portal users set up an authenticator app the next time they sign in."),
    )

    @classmethod
    def initial_from(cls, portal_settings: PortalSettings) -> dict:
        return {name: getattr(portal_settings, name) for name in PORTAL_SETTINGS_FIELDS}


class PortalNameForm(forms.Form):
    portal_name = forms.CharField(
        label=_("Portal name"),
        max_length=PORTAL_NAME_MAX_LENGTH,
        help_text=_(
            "Lowercase letters, digits and hyphens, 3 to 63 characters. "
            "Links with an earlier name keep working: they lead to the new one."
        ),
    )


class BannerPreviewForm(forms.Form):
    banner_message = forms.CharField(required=False, max_length=BANNER_MESSAGE_MAX_LENGTH * 2)
