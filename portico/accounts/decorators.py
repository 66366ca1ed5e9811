from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils import timezone, translation

from portico.accounts.selectors import membership_for_request

SESSION_ORGANIZATION_KEY = "portico_organization_id"


def staff_language(user, organization) -> str:
    return user.language or organization.language or settings.LANGUAGE_CODE


def staff_view(view):
    """Only for signed-in members of an organisation.

    Sets ``request.membership`` and ``request.organization``: every staff view
    reads its data through selectors scoped by ``request.organization``.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for_request(
            user=request.user, organization_id=request.session.get(SESSION_ORGANIZATION_KEY)
        )
        if membership is None:
            # A portal contact (or a former colleague) reached the back office.
            # Not signed out: their portal session stays usable.
            return render(request, "accounts/no_membership.html", status=403)
        request.membership = membership
        request.organization = membership.organization
        # Staff read dates and times in their organisation's time zone, and
        # the app in the language they chose (else the organisation's).
        language = staff_language(request.user, membership.organization)
        request.LANGUAGE_CODE = language
        with timezone.override(membership.organization.time_zone), translation.override(language):
            return view(request, *args, **kwargs)

    return wrapper
