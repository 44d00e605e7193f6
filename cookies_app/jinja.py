"""
The Jinja2 environment of the lab's public pages (the admin stays on Django's
templates). The lab page is the busiest page of the site: Jinja2 compiles it to
Python once; measured on the lab page, 0.68 ms a render against 1.68 ms with
Django's engine, which walks its nodes each time (README, Production).
"""

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import json_script
from django.utils.timezone import template_localtime
from jinja2 import Environment

from .templatetags.cookie_text import breakable, visible


def date(value, format_string):
    """Django's ``date`` filter, in the current time zone as Django's templates show it."""
    return defaultfilters.date(template_localtime(value), format_string)


def url(name, *args, **kwargs):
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options):
    # Django's backend turns autoescaping on already; said here, it cannot be lost.
    env = Environment(**{**options, "autoescape": True})
    env.globals.update(static=static, url=url)
    env.filters.update(
        breakable=breakable,
        date=date,
        json_script=json_script,
        pluralize=defaultfilters.pluralize,
        visible=visible,
        yesno=defaultfilters.yesno,
    )
    return env
