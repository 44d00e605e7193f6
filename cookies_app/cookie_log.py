"""
The observed-cookie log: what a request brought and what its response issued.

Sensitive values never reach the table in clear, long values and cookie floods
are capped, and a request's rows go in with one bulk INSERT.
"""

import re
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import CookieEvent, Direction
from .setcookie import header_value, morsel_attributes, signed_salts
from .text import byte_size, escape_controls

NAME_CAP = 256
TEXT_CAP = 512
REDACT_SALT = "cookies_app.cookie_log.redact"


@dataclass(frozen=True)
class RequestInfo:
    """What each row of one request shares."""

    request_id: uuid.UUID
    visitor_id: str
    method: str
    host: str
    path: str
    user_agent: str

    @classmethod
    def from_request(cls, request, visitor_id):
        return cls(
            request_id=uuid.uuid4(),
            visitor_id=visitor_id,
            method=request.method[:10],
            host=escape_controls(request.get_host())[:TEXT_CAP],
            path=escape_controls(request.path)[:TEXT_CAP],
            user_agent=escape_controls(request.headers.get("User-Agent", ""))[:TEXT_CAP],
        )


@cache
def _redact_pattern(pattern):
    return re.compile(pattern, re.IGNORECASE)


def is_sensitive(name):
    """The site's own session and CSRF cookies, and names matching the pattern."""
    own = {settings.SESSION_COOKIE_NAME.lower(), settings.CSRF_COOKIE_NAME.lower()}
    pattern = _redact_pattern(settings.COOKIE_LAB_REDACT_PATTERN)
    return name.lower() in own or bool(pattern.search(name))


def redact(value):
    """A stand-in that tells equal values apart without revealing them."""
    digest = salted_hmac(REDACT_SALT, value, algorithm="sha256").hexdigest()[:16]
    return f"[redacted: {byte_size(value)} bytes, hmac-sha256 {digest}]"


def _capped(text, cap):
    """``text`` cut to ``cap`` UTF-8 bytes, and whether it was cut."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= cap:
        return text, False
    return encoded[:cap].decode("utf-8", "ignore"), True


def stored_value(name, value):
    """(value as the log keeps it, whether it was cut): redacted, or escaped and capped."""
    if is_sensitive(name):
        return redact(value), False
    return _capped(escape_controls(value), settings.COOKIE_LAB_LOG_VALUE_CAP)


def _event(info, direction, name, value, observed_at, **extra):
    size = byte_size(name) + byte_size(value)
    stored_name, name_cut = _capped(escape_controls(name), NAME_CAP)
    value_for_log, value_cut = stored_value(name, value)
    return CookieEvent(
        direction=direction,
        observed_at=observed_at,
        request_id=info.request_id,
        visitor_id=info.visitor_id,
        method=info.method,
        host=info.host,
        path=info.path,
        user_agent=info.user_agent,
        name=stored_name,
        value=value_for_log,
        size=size,
        redacted=is_sensitive(name),
        truncated=name_cut or value_cut,
        **extra,
    )


def received_events(info, cookies, observed_at):
    """Rows for request.COOKIES, at most COOKIE_LAB_LOG_MAX_COOKIES of them."""
    cap = settings.COOKIE_LAB_LOG_MAX_COOKIES
    items = list(cookies.items())
    unlogged = max(0, len(items) - cap)
    return [
        _event(info, Direction.RECEIVED, name, value, observed_at, unlogged_in_request=unlogged)
        for name, value in items[:cap]
    ]


def issued_events(info, response, observed_at):
    """Rows for each Set-Cookie the response carries (capped like received ones)."""
    events = []
    salts = signed_salts(response)
    morsels = list(response.cookies.values())
    cap = settings.COOKIE_LAB_LOG_MAX_COOKIES
    for morsel in morsels[:cap]:
        attributes = morsel_attributes(morsel)
        attributes["signed"] = morsel.key in salts
        attributes["salt"] = escape_controls(salts.get(morsel.key, ""))[:256]
        # The model's `path` is the request's; the cookie's Path has its own column.
        attributes["cookie_path"] = attributes.pop("path")
        event = _event(
            info,
            Direction.ISSUED,
            morsel.key,
            morsel.value,
            observed_at,
            unlogged_in_request=max(0, len(morsels) - cap),
            **attributes,
        )
        event.header = _logged_header(morsel, event.redacted)
        events.append(event)
    return events


def _logged_header(morsel, redacted):
    header = escape_controls(header_value(morsel))
    if not redacted:
        return header
    # The header starts with "name=coded_value"; keep everything after it.
    prefix = f"{morsel.key}={morsel.coded_value}"
    return f"{morsel.key}=[redacted]{header[len(prefix) :]}"


def record(info, request, response):
    """Log the request's cookies and the response's Set-Cookie lines in one INSERT."""
    now = timezone.now()
    events = received_events(info, request.COOKIES, now)
    events += issued_events(info, response, now)
    if events:
        CookieEvent.objects.bulk_create(events)
    return events
