"""Small factories for log rows, written straight to the database."""

import uuid
from itertools import count

from django.utils import timezone

from cookies_app.models import ChangeKind, CookieChange, JarCookie, Request, Visitor

_seq = count(1)


def visitor(**fields):
    return Visitor.objects.create(key=fields.pop("key", uuid.uuid4().hex), **fields)


def requests(owner, number, **fields):
    """``number`` Request rows of ``owner``, numbered after its existing ones."""
    start = owner.requests
    rows = [
        Request(
            visitor=owner,
            seq=start + i + 1,
            at=fields.get("at", timezone.now()),
            method=fields.get("method", "GET"),
            host=fields.get("host", "localhost"),
            path=fields.get("path", "/cookies"),
            status=fields.get("status", 200),
        )
        for i in range(number)
    ]
    Request.objects.bulk_create(rows)
    owner.requests = start + number
    owner.save(update_fields=["requests"])
    return rows


def jar_cookie(owner, name=None, **fields):
    return JarCookie.objects.create(
        visitor=owner, name=name or f"c{next(_seq)}", path=fields.pop("path", "/"), **fields
    )


def change(cookie, request, kind=ChangeKind.ISSUED, **fields):
    return CookieChange.objects.create(
        visitor=cookie.visitor, cookie=cookie, request=request, kind=kind, **fields
    )
