"""Forms of the portal's self sign-up: /portal/<portal-name>/signup/."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from portico.accounts.models import User
from portico.customers.models import CustomerType
from portico.portal_access.signup import SignupData


class SignupForm(forms.Form):
    customer_type = forms.ChoiceField(
        label=_("Sign up as"),
        choices=[(CustomerType.BUSINESS, _("Company")), (CustomerType.INDIVIDUAL, _("Individual"))],
        initial=CustomerType.BUSINESS,
        widget=forms.RadioSelect,
    )
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a link to this address to confirm it. It is also your username."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    portal_language = forms.ChoiceField(label=_("Portal language"), choices=settings.LANGUAGES)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("customer_type") == CustomerType.BUSINESS and not cleaned.get(
            "company_name"
        ):
            self.add_error("company_name", _("Enter the company's name."))
        return cleaned

    def signup_data(self) -> SignupData:
        data = self.cleaned_data
        business = data["customer_type"] == CustomerType.BUSINESS
        return SignupData(
            customer_type=data["customer_type"],
            company_name=data["company_name"] if business else "",
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            portal_language=data["portal_language"],
        )


class SignupPasswordForm(forms.Form):
    """Finish a sign-up without an account: choose a password (Django's validators)."""

    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("At least 10 characters; not only digits, not a common password."),
    )
    password_confirm = forms.CharField(
        label=_("Confirm the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, full_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.probe = User(email=email, full_name=full_name)

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        confirm = cleaned.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", _("The two passwords are not the same."))
        elif password:
            try:
                password_validation.validate_password(password, self.probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class SignupExistingAccountForm(forms.Form):
    """Finish a sign-up as the Portico account that already has this e-mail."""

    password = forms.CharField(
        label=_("Your Portico password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
