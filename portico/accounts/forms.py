from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from portico.accounts.models import Role
from portico.core.money import currency_choices


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignUpForm(forms.Form):
    organization_name = forms.CharField(label=_("Business name"), max_length=150)
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Work e-mail"))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not only digits, not a common password."),
    )
    base_currency = forms.ChoiceField(label=_("Currency"), initial="USD")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_currency"].choices = currency_choices()

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            from portico.accounts.models import User

            probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, existing_account: bool, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_account = existing_account
        self.email = email
        if existing_account:
            del self.fields["full_name"]
            self.fields["password"].widget.attrs["autocomplete"] = "current-password"
        else:
            self.fields["full_name"].required = True

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.existing_account:
            from portico.accounts.models import User

            password_validation.validate_password(password, User(email=self.email))
        return password


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


def time_zone_choices() -> list[tuple[str, str]]:
    import zoneinfo

    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class OrganizationProfileForm(forms.Form):
    name = forms.CharField(label=_("Business name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    base_currency = forms.ChoiceField(label=_("Base currency"))
    time_zone = forms.ChoiceField(label=_("Time zone"))
    language = forms.ChoiceField(label=_("Language"))
    allow_partial_payments = forms.BooleanField(
        label=_("Allow partial payments"),
        required=False,
        help_text=_(
            "The default for new invoices: whether a customer may pay less than the "
            "balance due. Each invoice can change it."
        ),
    )

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["base_currency"].choices = currency_choices()
        self.fields["time_zone"].choices = time_zone_choices()
        self.fields["language"].choices = settings.LANGUAGES
