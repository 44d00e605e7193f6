"""Signed cookies as get_signed_cookie sees them: valid, tampered or expired."""

from enum import StrEnum

from django.core import signing
from django.http import HttpRequest


class Signature(StrEnum):
    VALID = "valid"
    TAMPERED = "tampered"
    EXPIRED = "expired"


def looks_signed(value):
    """Django's signed values are value:timestamp:signature; plain ones are skipped."""
    return value.count(":") >= 2


def signature_status(name, value, salt="", max_age=None):
    """{"status": ..., "value": ...} for one received cookie, get_signed_cookie's way."""
    # get_signed_cookie itself, so the signer's salt scheme stays Django's.
    request = HttpRequest()
    request.COOKIES = {name: value}
    try:
        unsigned = request.get_signed_cookie(name, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        return {"status": Signature.EXPIRED}
    except signing.BadSignature:
        return {"status": Signature.TAMPERED}
    return {"status": Signature.VALID, "value": unsigned}


def signed_cookies(cookies, salts=None, salt="", max_age=None):
    """
    The status of every cookie in ``cookies`` that looks signed. ``salts`` maps
    names to the salt each was issued with (from the jar); others use ``salt``.
    """
    salts = salts or {}
    return {
        name: signature_status(name, value, salts.get(name, salt), max_age)
        for name, value in cookies.items()
        if looks_signed(value)
    }


def statuses(visit, salt=None, max_age=None):
    """
    Each received signed cookie's status. Without a ``salt``, each is checked
    with the salt its latest Set-Cookie was issued with.
    """
    if salt is not None:
        return signed_cookies(visit.received, salt=salt, max_age=max_age)
    salts = {}
    for name, value in visit.received.items():
        if looks_signed(value) and (row := visit.issued_row(name)) is not None:
            salts[name] = row.salt
    return signed_cookies(visit.received, salts=salts, max_age=max_age)
