"""
The Jinja2 environment of the lab's public pages (the admin stays on Django's
templates). The lab page is the busiest page of the site: Jinja2 compiles it to
Python once, and renders it several times faster than Django's engine walks its
nodes (README, Production).
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
    env = Environment(**options)
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
