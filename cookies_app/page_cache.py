"""
Each server process's last rendering of the lab page per browser state,
reused while nothing the page shows can have changed.

Reloading is how the lab is used: set a cookie, reload, look. A reload that
changes nothing shows the same page, which is a function of:
- the request as the rules see it (scheme, host, path, method, Sec-Fetch-Site,
  engine: ``Visit.base_context``) and the cookies it carries, every value;
- the browser's jar, whose ``jar_version`` every change bumps (jar_cache),
  read from its row or, on PostgreSQL, told by the database (jar_versions);
- the clock, through the verdicts on cookies that expire or leave SameSite's
  two-minute window (``verdicts.next_change``): the copy is kept until then.
A page with anything else (a form's errors, ``?sent=N``, a first visit's
Set-Cookie) is rendered each time.

The per-response secrets, the CSP nonce and the masked CSRF token, are never
reused: every response gets fresh ones, put where the rendering had its own.
Those were random values made for that rendering, after its request arrived,
so nothing else on the page (cookie text included) can contain them.
"""

import hashlib

from django.conf import settings

from .lru import LRU


def page_key(visit):
    """What the lab page of this request is a function of, besides the clock."""
    jar = visit.jar_state()
    # The cookies by a digest: the key stays small whatever they weigh.
    cookies = hashlib.blake2b(digest_size=16)
    for name, value in visit.received.items():
        for text in (name, value):
            data = text.encode("utf-8", "surrogatepass")
            cookies.update(len(data).to_bytes(8, "big") + data)
    return (jar, visit.base_context, cookies.digest())


def with_jar_read(key, visit):
    """``key`` for the jar as ``visit`` knows it now: a render may have read a newer row."""
    return (visit.jar_state(), *key[1:])


class PageCache:
    """
    Rendered pages within a budget of characters (``budget``: the setting's
    KB times 1024, a character of the page's mostly ASCII a byte), the least
    recently used dropped first; a page over a quarter of it is never kept.
    """

    def __init__(self, budget):
        self.budget = budget
        self.pages = LRU(budget, weigh=lambda page: len(page[0]))  # key -> (html, secrets, until)

    @property
    def size(self):
        return self.pages.weight

    def get(self, key, now, secrets):
        """The page for ``key`` with ``secrets`` in place of its own, or None."""
        found = self.pages.get(key)
        if found is None:
            return None
        html, old, until = found
        if until is not None and now >= until:
            self.pages.pop(key)
            return None
        for before, after in zip(old, secrets, strict=True):
            html = html.replace(before, after)
        return html

    def put(self, key, html, secrets, until):
        """Keep ``html``, rendered with ``secrets``, for ``key`` until ``until`` (None: ever)."""
        if len(html) <= self.budget // 4:
            self.pages.put(key, (html, tuple(secrets), until))

    def clear(self):
        self.pages.clear()


PAGES = PageCache(settings.COOKIE_LAB_PAGE_CACHE_KB * 1024)
