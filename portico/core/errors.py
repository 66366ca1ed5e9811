"""Typed errors raised by services; views turn them into messages.

A service never returns an error code: it raises one of these with a
translated, user-presentable message.
"""


class PorticoError(Exception):
    """Base for errors a user can act on; ``str(error)`` is shown to them."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDeniedError(PorticoError):
    """The signed-in person's role does not allow this action."""


class ValidationError(PorticoError):
    """Input that a form could not catch (it depends on other rows)."""
