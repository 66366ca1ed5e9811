"""``manage.py expire_checkouts``: expire pending checkouts past their time (from cron, say).

The worker does the same for each checkout when it expires
(``portico.online_payments.tasks.expire_checkouts``); pages ignore an
expired pending checkout even before either runs.
"""

from django.core.management.base import BaseCommand

from portico.online_payments.services import checkout_expire_due


class Command(BaseCommand):
    help = "Expire pending online-payment checkouts past their time, releasing their invoices."

    def handle(self, *args, **options):
        count = checkout_expire_due()
        self.stdout.write(f"{count} checkout(s) expired.")
