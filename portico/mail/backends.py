from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend


class OutboxOnlyBackend(ConsoleEmailBackend):
    """The demo's mail "server": messages stay readable in Settings → E-mails
    and are printed to the worker's console; nothing leaves the machine."""
