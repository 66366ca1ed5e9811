from django.core.management.base import BaseCommand

from portico.activity.services import notifications_prune


class Command(BaseCommand):
    help = "Delete read notifications older than --days (default 90). Unread ones are kept."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args, days: int, **options):
        if days < 1:
            self.stderr.write("--days must be at least 1.")
            raise SystemExit(2)
        deleted = notifications_prune(older_than_days=days)
        self.stdout.write(f"Deleted {deleted} read notifications older than {days} days.")
