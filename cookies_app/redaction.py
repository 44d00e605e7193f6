"""
What the log never keeps in clear: the site's own session and CSRF cookies,
names that look like credentials, and values shaped like them whatever their
name. Such values are stored as a keyed hash and a length, equal values
equal; others are escaped and capped to the column.
"""

import math
import re
from collections import Counter
from functools import cache

from django.conf import settings
from django.utils.crypto import salted_hmac

from .text import byte_size, escape_controls

# The salt keeps the name of the module that first used it: changing it would
# change every digest already in the log.
REDACT_SALT = "cookies_app.cookie_log.redact"
# header.payload.signature, each base64url; the header always starts {"  -> eyJ
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# Long runs of token characters; random ones carry well over 3.5 bits a character,
# words and repeated characters far less.
TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.%:]{20,}")
TOKEN_MIN_ENTROPY = 3.5
# 32+ hex digits: an id or a digest (random hex sits too close to 3.5 bits to tell by entropy).
HEX_ID = re.compile(r"[0-9a-fA-F]{32,}")


@cache
def _redact_pattern(pattern):
    return re.compile(pattern, re.IGNORECASE)


def is_sensitive(name, value=""):
    """
    The site's own session and CSRF cookies, names matching the pattern, and
    values shaped like credentials whatever their name (unless switched off).
    """
    own = {settings.SESSION_COOKIE_NAME.lower(), settings.CSRF_COOKIE_NAME.lower()}
    pattern = _redact_pattern(settings.COOKIE_LAB_REDACT_PATTERN)
    if name.lower() in own or pattern.search(name):
        return True
    if name == settings.COOKIE_LAB_VISITOR_COOKIE:
        return False  # the lab's own id, stored as the visitor's key anyway
    return getattr(settings, "COOKIE_LAB_REDACT_CREDENTIAL_VALUES", True) and (
        looks_like_credential(value)
    )


def looks_like_credential(value):
    """A JWT, a UUID, or a long token of high entropy (a session id, an API key, a signature)."""
    value = value.strip('"')  # a quoted cookie value is the same token
    # fullmatch, never search: a search restarts at every "eyJ" (quadratic).
    if JWT.fullmatch(value) or HEX_ID.fullmatch(value) or UUID.fullmatch(value):
        return True
    if not TOKEN.fullmatch(value):
        return False
    has_letters = any(c.isalpha() for c in value)
    mixed = any(c.isdigit() for c in value) or len(value) >= 32
    return has_letters and mixed and _entropy(value) >= TOKEN_MIN_ENTROPY


def _entropy(text):
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def redact(value):
    """A stand-in that tells equal values apart without revealing them."""
    digest = salted_hmac(REDACT_SALT, value, algorithm="sha256").hexdigest()[:16]
    return f"[redacted: {byte_size(value)} bytes, hmac-sha256 {digest}]"


def _byte_capped(text, cap):
    """``text`` cut to ``cap`` UTF-8 bytes, and whether it was cut."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= cap:
        return text, False
    return encoded[:cap].decode("utf-8", "ignore"), True


def stored_value(name, value):
    """(value as the log keeps it, whether it was cut): redacted, or escaped and capped."""
    if is_sensitive(name, value):
        return redact(value), False
    return _byte_capped(escape_controls(value), settings.COOKIE_LAB_LOG_VALUE_CAP)
