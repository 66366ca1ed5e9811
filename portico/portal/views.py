"""Portal views (being built: the portal-access engineer replaces these)."""


def home(request, portal_name: str):
    raise NotImplementedError


def accept_invitation(request, portal_name: str, token: str):
    raise NotImplementedError
