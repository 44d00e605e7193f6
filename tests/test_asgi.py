"""The ASGI entry point sends the same Set-Cookie lines, Partitioned included."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.asgi import get_asgi_application
from django.db import DEFAULT_DB_ALIAS, connections


async def call(app, method, path, body=b"", headers=()):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], [v.decode() for k, v in start["headers"] if k.lower() == b"set-cookie"]


@pytest.mark.django_db(transaction=True)
def test_asgi_sends_partitioned(monkeypatch):
    # Each ASGI request's thread opens its own connection: close it at the end
    # of the request, or it keeps the PostgreSQL test database open.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    app = get_asgi_application()

    async def scenario():
        _, first = await call(app, "GET", "/cookies")
        token = next(c for c in first if c.startswith("csrftoken=")).split(";")[0].split("=")[1]
        body = "key=chip&value=1&path=%2F&secure=on&samesite=None&partitioned=on"
        body += f"&csrfmiddlewaretoken={token}"
        return await call(
            app,
            "POST",
            "/cookies",
            body=body.encode(),
            headers=[
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"cookie", f"csrftoken={token}".encode()),
            ],
        )

    # A fresh thread: Playwright's session may keep an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        status, cookies = pool.submit(asyncio.run, scenario()).result(timeout=60)

    assert status == 303
    assert "chip=1; Partitioned; Path=/; SameSite=None; Secure" in cookies
