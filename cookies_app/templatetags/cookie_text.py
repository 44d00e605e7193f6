import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from cookies_app.text import escape_controls

# Where a long cookie name or Set-Cookie line may wrap: after _ - . and "; ".
BREAK_AFTER = re.compile(r"(?<=[_\-.])|(?<=; )")

register = template.Library()


@register.filter
def visible(text):
    """Control characters shown as \\xNN; autoescaping still applies after."""
    return escape_controls(str(text))


@register.filter
def breakable(text):
    """
    Escaped, controls shown as \\xNN, with a line-break opportunity (<wbr>)
    after _ - . and "; ": long names and lines wrap there, not mid-word.
    """
    escaped = str(conditional_escape(escape_controls(str(text))))
    # Escaping never produces _ - . or "; " inside an entity (&amp; &lt; &#x27; ...).
    return mark_safe(BREAK_AFTER.sub("<wbr>", escaped))
