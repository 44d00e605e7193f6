"""
Make sure a local admin account exists, for development only.

The password is random, generated once, kept in a git-ignored file beside
manage.py and printed, so `make run` always tells you how to log in (it prints
this command's two lines last, once the server is up).
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD_FILE = settings.BASE_DIR / ".local-admin-password"
DEFAULT_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Create or refresh the local development admin account (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default=DEFAULT_URL,
            help="The address the site is served at, for the admin link (default %(default)s).",
        )

    def handle(self, *args, **options):
        admin_url = options["url"].rstrip("/") + "/admin/"
        if not settings.DEBUG:
            raise CommandError(
                "ensure_local_admin is for development (DJANGO_DEBUG=1) only; in "
                "production use `manage.py createsuperuser`."
            )
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        password = PASSWORD_FILE.read_text().strip() if PASSWORD_FILE.exists() else ""
        if user is not None and password and not user.check_password(password):
            # Someone chose another password since: keep theirs.
            self.stdout.write(
                f"Admin: {admin_url}  user: {USERNAME}  password: the one "
                f"you set (not the one in {PASSWORD_FILE.name}; delete that file to get a "
                "new random one)"
            )
            return
        if user is None or not password:
            password = password or secrets.token_urlsafe(18)
            user = user or User(username=USERNAME, email="admin@localhost")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        self.stdout.write(
            f"Admin: {admin_url}  user: {USERNAME}  password: {password}\n"
            f"(kept in {PASSWORD_FILE.name}, which git ignores)"
        )
