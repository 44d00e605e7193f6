"""Signed cookies as get_signed_cookie sees them: valid, tampered or expired."""

from django.core import signing

VALID, TAMPERED, EXPIRED = "valid", "tampered", "expired"


def looks_signed(value):
    """Django's signed values are value:timestamp:signature; plain ones are skipped."""
    return value.count(":") >= 2


def signature_status(request, name, salt="", max_age=None):
    """{"status": ..., "value": ...} for one received cookie, get_signed_cookie's way."""
    try:
        value = request.get_signed_cookie(name, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        return {"status": EXPIRED}
    except signing.BadSignature:
        return {"status": TAMPERED}
    return {"status": VALID, "value": value}


def signed_cookies(request, salts=None, salt="", max_age=None):
    """
    The status of every received cookie that looks signed. ``salts`` maps names
    to the salt each was issued with (from the log); others use ``salt``.
    """
    salts = salts or {}
    return {
        name: signature_status(request, name, salts.get(name, salt), max_age)
        for name, value in request.COOKIES.items()
        if looks_signed(value)
    }
