"""
Delete cookie-log rows older than the retention period (by default
COOKIE_LAB_LOG_RETENTION_DAYS), in small batches; meant for a nightly cron job.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cookies_app.retention import prune, would_prune


class Command(BaseCommand):
    help = "Delete cookie-log rows older than the retention period, in small batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            help="Keep this many days (default: COOKIE_LAB_LOG_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Rows per DELETE, each in its own transaction (default: 5000).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would go; delete nothing."
        )

    def handle(self, *args, days, batch_size, dry_run, **options):
        if days is None:
            days = settings.COOKIE_LAB_LOG_RETENTION_DAYS
        if days < 1:
            raise CommandError(f"--days must be 1 or more, not {days}.")
        if batch_size < 1:
            raise CommandError(f"--batch-size must be 1 or more, not {batch_size}.")
        try:
            older_than = timezone.now() - timedelta(days=days)
        except OverflowError:
            raise CommandError(f"--days {days} reaches back before the year 1.") from None
        if dry_run:
            counts = would_prune(older_than)
            heading = "Would delete"
        else:
            counts = prune(older_than, batch_size=batch_size)
            heading = "Deleted"
        self.stdout.write(
            f"{heading} log rows older than {days} days (before {older_than:%Y-%m-%d %H:%M} UTC):"
        )
        for table, count in counts.items():
            self.stdout.write(f"  {table.replace('_', ' '):<12} {count}")
