from django import template

from cookies_app.text import escape_controls

register = template.Library()


@register.filter
def visible(text):
    """Control characters shown as \\xNN; autoescaping still applies after."""
    return escape_controls(str(text))
