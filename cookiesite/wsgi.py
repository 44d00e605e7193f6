"""WSGI entry point. Production by default: DJANGO_SECRET_KEY must be set."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cookiesite.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

application = get_wsgi_application()
