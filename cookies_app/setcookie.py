"""
Set-Cookie emission: Django's set_cookie plus the Partitioned attribute.

Django's HttpResponse.set_cookie has no ``partitioned`` parameter (Flask and
Werkzeug do), and Python's http.cookies only learns the attribute in 3.14. A
Morsel subclass that knows the flag is the one place that adds it.
"""

import re
from datetime import UTC
from email.utils import format_datetime
from http.cookies import Morsel

SET_COOKIE = "Set-Cookie"
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
# Python 3.13.0 lets CR, LF and other controls into cookie attributes; a header
# that carries one could split into two. The last line of defence is here.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PartitionedMorsel(Morsel):
    """A Morsel that renders ``; Partitioned`` when its flag is set (CHIPS)."""

    _reserved = {**Morsel._reserved, "partitioned": "Partitioned"}
    _flags = Morsel._flags | {"partitioned"}


def set_cookie(response, key, value="", *, partitioned=False, signed=False, salt="", **kwargs):
    """
    ``response.set_cookie`` with every parameter Django has, plus partitioned;
    ``signed`` goes through ``set_signed_cookie`` with ``salt``.
    """
    if signed:
        response.set_signed_cookie(key, value, salt=salt, **kwargs)
        signed_salts(response)[key] = salt
    else:
        response.set_cookie(key, value, **kwargs)
        signed_salts(response).pop(key, None)
    if partitioned:
        mark_partitioned(response, key)
    _refuse_control_characters(response, key)


def send_cookie(response, cookie, *, signed=False, salt=""):
    """
    Set ``cookie`` (a rules.ProposedCookie, the one shape a cookie has from the
    form to the verdict) on ``response``: blank Path, Domain and SameSite are
    left out of the header.
    """
    expires = cookie.expires
    set_cookie(
        response,
        cookie.name,
        cookie.value,
        max_age=cookie.max_age,
        expires=format_datetime(expires.astimezone(UTC), usegmt=True) if expires else None,
        path=cookie.path or None,
        domain=cookie.domain or None,
        secure=cookie.secure,
        httponly=cookie.httponly,
        samesite=cookie.samesite or None,
        partitioned=cookie.partitioned,
        signed=signed,
        salt=salt,
    )


def signed_salts(response):
    """{name: salt} of the cookies this response signs, for the log."""
    if not hasattr(response, "cookie_lab_signed"):
        response.cookie_lab_signed = {}
    return response.cookie_lab_signed


def expire_cookie(response, key, **attributes):
    """
    A deletion that keeps every attribute (Partitioned, Secure, SameSite...), so
    it matches the cookie it replaces; Django's delete_cookie takes fewer.
    """
    set_cookie(response, key, "", max_age=0, expires=EPOCH, **attributes)


def delete_cookie(response, key, **kwargs):
    """``response.delete_cookie``, with the same guard against header injection."""
    response.delete_cookie(key, **kwargs)
    _refuse_control_characters(response, key)


def _refuse_control_characters(response, key):
    if CONTROL.search(header_value(response.cookies[key])):
        del response.cookies[key]
        raise ValueError(f"The Set-Cookie header for {key!r} would carry a control character.")


def mark_partitioned(response, key):
    """Swap the response's morsel for ``key`` with one that carries Partitioned."""
    original = response.cookies[key]
    morsel = PartitionedMorsel()
    morsel.set(original.key, original.value, original.coded_value)
    morsel.update(original)
    morsel["partitioned"] = True
    # SimpleCookie.__setitem__ would wrap a plain value; store the morsel as is.
    dict.__setitem__(response.cookies, key, morsel)


def header_value(morsel):
    """The Set-Cookie header value exactly as Django's handlers send it."""
    return morsel.OutputString()


def header_lines(response):
    """Every Set-Cookie line a response will send, in order."""
    return [f"{SET_COOKIE}: {header_value(m)}" for m in response.cookies.values()]


def morsel_attributes(morsel):
    """The attributes of a morsel as plain Python values, for the log."""
    max_age = morsel["max-age"]
    return {
        "max_age": int(max_age) if max_age != "" else None,
        "expires": morsel["expires"] or "",
        "path": morsel["path"] or "",
        "domain": morsel["domain"] or "",
        "secure": bool(morsel["secure"]),
        "httponly": bool(morsel["httponly"]),
        "samesite": morsel["samesite"] or "",
        "partitioned": bool(morsel.get("partitioned")),
    }
