from functools import partial

from portico.accounts.selectors import memberships_of_user


def organization(request):
    """The current membership, set by @staff_view (None on public pages).

    ``user_memberships`` is a callable so the query runs only on pages that
    show the organisation switcher.
    """
    membership = getattr(request, "membership", None)
    context = {"membership": membership}
    if membership is not None:
        context["user_memberships"] = partial(
            lambda user: list(memberships_of_user(user=user)), request.user
        )
    return context
