"""
Synthetic traffic for the cookie log, written through the log's own write path.

``manage.py seed_cookie_log --requests N`` simulates N requests from V browsers
over the last D days. Each browser keeps a cookie jar the way Chromium would:
cookies the lab issues with real ``set_cookie`` morsels (the mix the lab is for:
Secure, HttpOnly, SameSite, Partitioned, prefixes, lifetimes, deletions), kept
or dropped as the rules predict, sent back only where Path and SameSite allow,
forgotten when they expire; others set by script, a few changed or cleared by
hand. Every request is a ``Visit`` planned by ``cookie_log.plan`` and saved by
``cookie_log.save`` a batch at a time (one transaction each), so the tables hold
what that traffic would leave. The same ``--seed`` writes the same rows, at
times relative to now.
"""

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core import signing
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import HttpResponse
from django.utils.http import http_date

from cookies_app import cookie_log, rules
from cookies_app.models import SET_COOKIE_KINDS, Visitor
from cookies_app.setcookie import expire_cookie, morsel_attributes, set_cookie, signed_salts
from cookies_app.site_cookies import reserved_names
from cookies_app.verdicts import path_matches
from cookies_app.visit import Visit

SECOND = 1_000_000  # the timeline counts microseconds
DAY = 86_400 * SECOND
MAX_LIFETIME = 400 * 86_400  # Chromium caps Max-Age and Expires at 400 days
SESSION_GAP = 20 * SECOND  # mean time between two requests of one session
SIGNING_SALT = "lab"
LAB, LAB_SUB, LAB_DELETE = "/cookies", "/cookies/sub/", "/cookies/delete"
API, API_SET, API_DELETE = "/api/cookies", "/api/cookies/set", "/api/cookies/delete"
API_EXPORT, API_SIGNED = "/api/cookies/export", "/api/cookies/signed"
LAB_PAGES = (LAB, LAB_SUB)
# Real browsers' User-Agents, 100-150 bytes each.
USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.6478.71 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
)
NAMES = {
    "plain": [
        "flavor",
        "theme",
        "lang",
        "cart",
        "ab_test",
        "consent",
        "tz",
        "font_size",
        "last_tab",
        "promo",
        "region",
        "currency",
        "layout",
        "tour_done",
        "beta",
        "fav",
        "sort",
        "view",
        "utm_source",
        "color",
    ],
    # Names the log redacts (COOKIE_LAB_REDACT_PATTERN).
    "sensitive": ["auth_token", "api_key", "remember_pass", "sso_sid", "refresh_token"],
    "script": ["js_theme", "js_counter", "js_visited", "js_panel", "js_scroll"],
}
VALUES = [
    "chip",
    "dark",
    "light",
    "en-US",
    "fr-FR",
    "1",
    "0",
    "yes",
    "no",
    "grid",
    "list",
    "42",
    "blue",
    "EUR",
]
# Cookies a browser ends up with (1-30), the lab's own three included.
COOKIE_TARGETS = {range(1, 6): 45, range(6, 13): 35, range(13, 31): 20}
# The chance that a browser also changes its jar in each of these ways, once.
CHANGE_CHANCES = {"reissue": 0.15, "script_change": 0.10, "delete": 0.10, "clear": 0.05}


def table(weights):
    """``weights`` (key -> integer weight) as a list for ``rng.choice``: cheap per request."""
    return [key for key, weight in weights.items() for _ in range(weight)]


PAGES = table({LAB: 45, LAB_SUB: 5, API: 30, API_EXPORT: 10, API_SIGNED: 10})
API_USER_PAGES = table({API: 60, API_EXPORT: 20, API_SIGNED: 10, LAB: 10})
FETCH_SITES = table({"same-origin": 70, "none": 20, "same-site": 4, "cross-site": 4, "": 2})
HOSTS = table({"localhost:8000": 8, "127.0.0.1:8000": 2})
# How a new cookie comes: the lab's form, the httpbin API, or a script.
NEW_COOKIE_EVENTS = table({"form": 5, "api": 3, "script": 2})


@dataclass(frozen=True)
class Profile:
    """A kind of cookie the lab's form sets."""

    secure: bool = False
    httponly: bool = False
    samesite: str = ""
    partitioned: bool = False
    prefix: str = ""
    path: str = "/"
    domain: str = ""
    lifetime: str = "session"  # session, short, long, capped (over 400 days), expires
    signed: bool = False
    sensitive: bool = False


# The browser drops some (SameSite=None or Partitioned without Secure, an
# invalid prefix, a Domain that is not this host): the rules say which.
PROFILES = table(
    {
        Profile(): 18,
        Profile(secure=True): 8,
        Profile(httponly=True): 8,
        Profile(samesite="Lax"): 8,
        Profile(samesite="Strict"): 6,
        Profile(secure=True, samesite="None"): 5,
        Profile(samesite="None"): 3,
        Profile(secure=True, partitioned=True, samesite="None"): 4,
        Profile(partitioned=True): 2,
        Profile(prefix="__Host-", secure=True): 4,
        Profile(prefix="__Host-", secure=True, path=LAB): 1,
        Profile(prefix="__Secure-", secure=True, httponly=True): 3,
        Profile(prefix="__Secure-"): 1,
        Profile(lifetime="short"): 6,
        Profile(lifetime="long", secure=True, samesite="Lax"): 5,
        Profile(lifetime="capped"): 1,
        Profile(lifetime="expires"): 3,
        Profile(path=LAB_SUB): 4,
        Profile(path=API): 3,
        Profile(signed=True, httponly=True): 3,
        Profile(sensitive=True, httponly=True, secure=True): 3,
        Profile(domain="localhost"): 2,
    }
)


class Held:
    """A cookie in a simulated browser's jar."""

    __slots__ = ("name", "value", "path", "domain", "samesite", "secure", "expires", "script")

    def __init__(self, name, value, path="/", domain="", samesite="", secure=False, expires=None):
        self.name, self.value, self.path, self.domain = name, value, path, domain
        self.samesite, self.secure, self.expires = samesite, secure, expires
        self.script = False


class Browser:
    """One simulated browser: its Visitor row, its own jar, and the log's jar rows for it."""

    def __init__(self, visitor, rng, total, reserved):
        self.visitor, self.total, self.reserved = visitor, total, reserved
        self.host = rng.choice(HOSTS)
        self.user_agent = rng.choice(USER_AGENTS)
        self.api_user = rng.random() < 0.2  # an httpbin client more than a lab user
        self.pages = API_USER_PAGES if self.api_user else PAGES
        self.seq = 0
        self.first_at = self.last_at = None
        self.held = {}  # (name, domain, path) -> Held
        self.rows = {}  # the log's JarCookie rows, keyed by object: new ones have no id yet
        self.views = {}  # (path, fetch_site, method) -> (received, rules context)
        self.next_expiry = None
        self.follow = None  # where the last redirect sends the next request
        self.pending = ()  # the last request's Set-Cookie lines, judged by the next
        self.unused = {kind: rng.sample(names, len(names)) for kind, names in NAMES.items()}
        self.named = 0
        self.events = plan_events(rng, total)

    def fresh_name(self, kind):
        if self.unused[kind]:
            return self.unused[kind].pop()
        self.named += 1
        return f"{NAMES[kind][0]}_{self.named}"

    def server_cookies(self):
        return [h for h in self.held.values() if not h.script and h.name not in self.reserved]

    def keep(self, held):
        self.held[(held.name, held.domain, held.path)] = held
        if held.expires is not None and (
            self.next_expiry is None or held.expires < self.next_expiry
        ):
            self.next_expiry = held.expires
        self.views.clear()

    def forget(self, name, domain, path):
        if self.held.pop((name, domain, path), None) is not None:
            self.views.clear()

    def expire(self, now):
        """Forget the cookies whose time is up, as the browser does."""
        if self.next_expiry is None or now < self.next_expiry:
            return
        for key, held in list(self.held.items()):
            if held.expires is not None and held.expires <= now:
                del self.held[key]
        self.next_expiry = min(
            (h.expires for h in self.held.values() if h.expires is not None), default=None
        )
        self.views.clear()

    def view(self, path, fetch_site, method):
        """(request.COOKIES, rules context) of a request: the same until the jar changes."""
        key = (path, fetch_site, method)
        found = self.views.get(key)
        if found is None:
            found = self.views[key] = self._view(path, fetch_site, method)
        return found

    def _view(self, path, fetch_site, method):
        cross_site = fetch_site == "cross-site"
        received = {}
        # Longer paths first, as browsers send them; Django keeps the last duplicate.
        for held in sorted(self.held.values(), key=lambda h: -len(h.path)):
            if not path_matches(path, held.path):
                continue
            samesite = held.samesite or "Lax"
            if cross_site and (samesite == "Strict" or (samesite == "Lax" and method != "GET")):
                continue
            received[held.name] = held.value
        names = frozenset(received)
        httponly = frozenset(r.name for r in self.rows.values() if r.httponly and r.name in names)
        context = rules.RequestContext(
            scheme="http",
            host=self.host,
            path=path,
            reserved_names=self.reserved,
            received_names=names,
            httponly_names=httponly,
            fetch_site=fetch_site,
            method=method,
        )
        return received, context

    def accept(self, response, context, now, clock):
        """Store or forget each Set-Cookie as Chromium would; the rules predict its drops."""
        for morsel in response.cookies.values():
            attributes = morsel_attributes(morsel)
            domain = attributes["domain"]
            path = attributes["path"] or rules.default_path(context.path)
            max_age = attributes["max_age"]
            expires = None
            if max_age is not None:
                expires = now + min(max_age, MAX_LIFETIME) * SECOND
            elif attributes["expires"]:
                expires = clock.at(parsedate_to_datetime(attributes["expires"]))
            if expires is not None and expires <= now:
                self.forget(morsel.key, domain, path)
                continue
            proposed = rules.ProposedCookie(
                name=morsel.key,
                value=morsel.value,
                max_age=max_age,
                path=path,
                domain=domain,
                secure=attributes["secure"],
                httponly=attributes["httponly"],
                samesite=attributes["samesite"],
                partitioned=attributes["partitioned"],
            )
            findings = rules.evaluate(proposed, context)
            if any(f.severity == rules.Severity.ERROR for f in findings):
                continue  # dropped by the browser
            self.keep(
                Held(
                    morsel.key,
                    morsel.value,
                    path,
                    domain,
                    attributes["samesite"],
                    attributes["secure"],
                    expires,
                )
            )


def plan_events(rng, total):
    """{request number: what changes the jar then}, for a browser of ``total`` requests."""
    if total < 3:
        return {}
    target = rng.choice(rng.choices(list(COOKIE_TARGETS), list(COOKIE_TARGETS.values()))[0])
    # The lab's own cookies (visitor id, username, CSRF) come with the first visits.
    kinds = [rng.choice(NEW_COOKIE_EVENTS) for _ in range(max(0, target - 3))]
    kinds += [kind for kind, chance in CHANGE_CHANCES.items() if rng.random() < chance]
    # An event takes an even-numbered request; the odd one after follows its redirect.
    slots = range(2, total, 2)
    kinds = kinds[: len(slots)]
    return dict(zip(sorted(rng.sample(slots, len(kinds))), kinds, strict=True))


def request_counts(rng, requests, visitors):
    """Requests per visitor: one each, the rest heavy-tailed (a few browse a lot)."""
    counts = [1] * visitors
    weights = [rng.paretovariate(1.3) for _ in range(visitors)]
    for index in rng.choices(range(visitors), weights=weights, k=requests - visitors):
        counts[index] += 1
    return counts


def visit_times(rng, total, span):
    """``total`` increasing times in [0, span): sessions of requests seconds apart."""
    start = int(span * rng.random() * (0.1 if total > 1000 else 0.95))
    end = start + int((span - start) * max(rng.random(), min(1.0, total / 1000)))
    sessions = max(1, round(total / rng.uniform(3, 15)))
    starts = sorted(rng.randrange(start, max(start + 1, end)) for _ in range(sessions))
    times, at = [], -1
    for session, session_start in enumerate(starts):
        at = max(at + 1, session_start)
        for index in range(total * session // sessions, total * (session + 1) // sessions):
            if index > total * session // sessions:
                at += 1 + int(rng.expovariate(1 / SESSION_GAP))
            times.append(at)
    if times[-1] >= span:  # sessions ran past now: squeeze them in, keeping the order
        scale = (span - 1 - start) / (times[-1] - start)
        squeezed, at = [], -1
        for t in times:
            at = max(at + 1, start + int((t - start) * scale))
            squeezed.append(at)
        times = squeezed
    return times


class Clock:
    """The simulation's time: microseconds since ``origin``."""

    def __init__(self, span):
        self.origin = datetime.now(UTC) - timedelta(microseconds=span)

    def datetime(self, at):
        return self.origin + timedelta(microseconds=at)

    def at(self, when):
        return (when - self.origin) // timedelta(microseconds=1)

    def http_date(self, at):
        return http_date(self.datetime(at).timestamp())


class Command(BaseCommand):
    help = (
        "Write realistic synthetic traffic (visitors, jars, requests, changes) to the cookie "
        "log through its own write path."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, required=True, help="Requests to write.")
        parser.add_argument(
            "--visitors",
            type=int,
            help="Browsers. Default: max(1000, requests/200), but at most requests/20.",
        )
        parser.add_argument("--days", type=int, default=30, help="Spread over the last D days.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--batch", type=int, default=5000, help="Requests per save, one transaction each."
        )

    def handle(self, *args, requests, visitors, days, seed, batch, **options):
        if requests <= 0:
            raise CommandError(f"--requests must be a positive number, not {requests}.")
        if visitors is None:
            visitors = max(1, min(max(1000, requests // 200), requests // 20))
        if not 1 <= visitors <= requests:
            raise CommandError(
                f"--visitors must be between 1 and --requests ({requests}), not {visitors}."
            )
        if not 1 <= days <= 3650:
            raise CommandError(f"--days must be between 1 and 3650, not {days}.")
        if not 1 <= batch <= 100_000:
            raise CommandError(f"--batch must be between 1 and 100000, not {batch}.")
        if Visitor._meta.db_table not in connection.introspection.table_names():
            raise CommandError("The cookie log's tables are missing: run `manage.py migrate`.")
        started = time.perf_counter()
        seeder = Seeder(random.Random(seed), days * DAY, batch, self.stdout)
        seeder.create_visitors(requests, visitors)
        seeder.run()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Seeded {requests:,} requests from {visitors:,} visitors over {days} days "
            f"(seed {seed}) in {elapsed:.1f} s: {requests / elapsed:,.0f} requests/s. "
            f"{seeder.jar_rows:,} jar cookies, {seeder.changes:,} changes, "
            f"{seeder.carried:,} cookies carried."
        )


class Seeder:
    """The simulated browsers, and their requests written a batch at a time."""

    def __init__(self, rng, span, batch, out):
        self.rng, self.span, self.batch, self.out = rng, span, batch, out
        self.clock = Clock(span)
        self.reserved = reserved_names()
        self.browsers = []
        self.jar_rows = self.changes = self.carried = 0

    def create_visitors(self, requests, visitors):
        """The Visitor rows up front, keys from the seed; their counters are set at the end."""
        rng = self.rng
        counts = request_counts(rng, requests, visitors)
        keys = [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in counts]
        if Visitor.objects.filter(key__in=keys[:100]).exists():
            raise CommandError("This seed's visitors are in the log already: pass another --seed.")
        rows = Visitor.objects.bulk_create([Visitor(key=key) for key in keys], batch_size=2000)
        self.browsers = [
            Browser(row, rng, total, self.reserved) for row, total in zip(rows, counts, strict=True)
        ]

    def timeline(self):
        """Every request as (its time << bits | its browser's index), in time order."""
        bits = len(self.browsers).bit_length()
        events = []
        for index, browser in enumerate(self.browsers):
            events.extend(
                at << bits | index for at in visit_times(self.rng, browser.total, self.span)
            )
        events.sort()
        return events, bits

    def run(self):
        timeline, bits = self.timeline()
        mask = (1 << bits) - 1
        total = len(timeline)
        pending = []
        every = max(self.batch, total // 10)
        started = time.perf_counter()
        for done, event in enumerate(timeline, 1):
            browser = self.browsers[event & mask]
            planned = self.request(browser, event >> bits)
            # The browser's later requests see its new rows before they are saved.
            for row in planned.new:
                browser.rows[id(row)] = row
            self.jar_rows += len(planned.new)
            self.changes += len(planned.changes)
            self.carried += planned.request.cookie_count
            pending.append(planned)
            if len(pending) >= self.batch:
                cookie_log.save(pending)
                pending = []
            if browser.seq == browser.total:  # its last request: let its jar go
                browser.held = browser.views = browser.rows = browser.events = None
                browser.pending = ()
            if done % every == 0:
                elapsed = time.perf_counter() - started
                self.out.write(
                    f"  {done:>11,} / {total:,} requests  {elapsed:7.1f} s  "
                    f"{done / elapsed:8,.0f} requests/s"
                )
                self.out.flush()
        if pending:
            cookie_log.save(pending)
        self.finish_visitors()

    def request(self, browser, now):
        """One simulated request of ``browser`` at ``now``: its Plan."""
        rng = self.rng
        browser.seq += 1
        seq = browser.seq
        browser.expire(now)
        event = browser.events.pop(seq, None)
        method, status, fetch_site = "GET", 200, rng.choice(FETCH_SITES)
        if seq == 1:
            path = API if browser.api_user else LAB
        elif browser.follow:
            path, browser.follow, fetch_site = browser.follow, None, "same-origin"
        else:
            path = rng.choice(browser.pages)
        response = None
        if event in ("script", "script_change", "clear"):
            self.script(browser, event)
        elif event is not None:
            fetch_site, response = "same-origin", HttpResponse()
            method, path, status = self.issue(browser, event, response, now)
        received, context = browser.view(path, fetch_site, method)
        if path in LAB_PAGES and status == 200 and "username" not in received:
            response = response or HttpResponse()
            self.set(response, "username", "root", now)  # the lab's first-visit cookie
        if seq == 1:
            response = response or HttpResponse()
            self.set(
                response,
                settings.COOKIE_LAB_VISITOR_COOKIE,
                browser.visitor.key,
                now,
                max_age=365 * 86_400,
                httponly=True,
                samesite="Lax",
            )
        at = self.clock.datetime(now)
        visitor = browser.visitor
        previous_at = browser.last_at
        visitor.previous_seen, visitor.last_seen = previous_at, at
        visitor.requests = visitor.logged = seq  # numbered and logged in the same order
        browser.first_at = browser.first_at or at
        browser.last_at = at
        visit = Visit(
            key=visitor.key,
            is_new=seq == 1,
            visitor_id=visitor.id,
            row=visitor,
            seq=seq,
            at=at,
            method=method,
            host=browser.host,
            path=path,
            fetch_site=fetch_site,
            user_agent=browser.user_agent,
            received=received,
            base_context=context,
            order=seq,
            previous_at=previous_at,
        )
        # What Visit would read from the database: this browser's rows, kept here.
        visit.jar, visit.context = browser.rows, context
        # The previous request's Set-Cookie lines are judged by this one.
        pending, browser.pending = browser.pending, ()
        if response is None:
            planned = cookie_log.plan(visit, {}, status, {}, pending)
        else:
            planned = cookie_log.plan(
                visit, response.cookies, status, signed_salts(response), pending
            )
            browser.pending = [
                (row, line) for row, line in planned.changes if line.kind in SET_COOKIE_KINDS
            ]
            browser.accept(response, context, now, self.clock)
            browser.views.clear()  # the jar rows' attributes changed too
        if path in LAB_PAGES and status == 200:
            self.csrf_cookie(browser, now)
        return planned

    def issue(self, browser, event, response, now):
        """The lab's form or the API sets or deletes cookies: (method, path, status)."""
        rng = self.rng
        if event == "delete":
            mine = browser.server_cookies()
            held = rng.choice(mine) if mine else None
            if rng.random() < 0.5:
                # httpbin-style: Path=/ whatever the cookie's path (then it may stay).
                browser.follow = API
                if held:
                    expire_cookie(response, held.name, path="/", secure=held.secure)
                return "GET", API_DELETE, 302
            browser.follow = LAB
            if held:
                response.delete_cookie(held.name, path=held.path, domain=held.domain or None)
            return "POST", LAB_DELETE, 303
        if event == "api":
            browser.follow = API
            for _ in range(rng.choice((1, 1, 2))):
                self.set(response, browser.fresh_name("plain"), rng.choice(VALUES), now)
            return "GET", API_SET, 302
        page = LAB_SUB if rng.random() < 0.1 else LAB
        browser.follow = page
        if event == "reissue" and (mine := browser.server_cookies()):
            held = rng.choice(mine)
            value = f"{rng.choice(VALUES)}{rng.randrange(100)}"
            self.set(response, held.name, value, now, path=held.path, secure=held.secure)
            return "POST", page, 303
        profile = rng.choice(PROFILES)
        name = profile.prefix + browser.fresh_name("sensitive" if profile.sensitive else "plain")
        if profile.sensitive or profile.signed:
            value = f"{rng.getrandbits(128):032x}"
        else:
            value = rng.choice(VALUES)
        kwargs = {
            "path": profile.path,
            "domain": profile.domain or None,
            "secure": profile.secure,
            "httponly": profile.httponly,
            "samesite": profile.samesite or None,
            "partitioned": profile.partitioned,
        }
        if profile.lifetime == "short":
            kwargs["max_age"] = rng.choice((30, 60, 300, 900, 3600))
        elif profile.lifetime == "long":
            kwargs["max_age"] = rng.randrange(30, 400) * 86_400
        elif profile.lifetime == "capped":
            kwargs["max_age"] = 500 * 86_400
        elif profile.lifetime == "expires":
            kwargs["expires"] = self.clock.http_date(now + rng.randrange(1, 30) * DAY)
        if profile.signed:
            value = self.sign(name, value, now)
        self.set(response, name, value, now, **kwargs)
        if profile.signed:
            signed_salts(response)[name] = SIGNING_SALT  # as set_cookie(signed=True) records it
        return "POST", page, 303

    def sign(self, name, value, now):
        """``set_signed_cookie``'s value, timestamped by the simulation's clock."""
        signer = signing.get_cookie_signer(salt=name + SIGNING_SALT)
        stamp = signing.b62_encode(int(self.clock.datetime(now).timestamp()))
        signer.timestamp = lambda: stamp
        return signer.sign(value)

    def set(self, response, name, value, now, **kwargs):
        """``setcookie.set_cookie``; Expires dated by the simulation's clock."""
        set_cookie(response, name, value, **kwargs)
        if kwargs.get("max_age") is not None:
            # Django dates it from the wall clock; this request happened at ``now``.
            response.cookies[name]["expires"] = self.clock.http_date(
                now + kwargs["max_age"] * SECOND
            )

    def script(self, browser, event):
        """A script sets or changes a cookie, or the user clears one: the next request shows it."""
        rng = self.rng
        scripted = [h for h in browser.held.values() if h.script]
        if event == "script" or (event == "script_change" and not scripted):
            held = Held(browser.fresh_name("script"), rng.choice(VALUES))
            held.script = True
            browser.keep(held)
        elif event == "script_change":
            scripted[0].value += str(rng.randrange(10))
            browser.views.clear()
        elif mine := [h for h in browser.held.values() if h.name not in self.reserved]:
            held = rng.choice(mine)
            browser.forget(held.name, held.domain, held.path)

    def csrf_cookie(self, browser, now):
        """The lab page's CSRF cookie: set after the log ran, so it first shows up received."""
        name = settings.CSRF_COOKIE_NAME
        if (name, "", "/") not in browser.held:
            held = Held(name, f"{self.rng.getrandbits(128):032x}", samesite="Lax")
            held.expires = now + settings.CSRF_COOKIE_AGE * SECOND
            browser.keep(held)

    def finish_visitors(self):
        visitors = []
        for browser in self.browsers:
            visitor = browser.visitor
            visitor.requests = visitor.logged = browser.seq
            visitor.first_seen, visitor.last_seen = browser.first_at, browser.last_at
            visitors.append(visitor)
        Visitor.objects.bulk_update(
            visitors, ["requests", "logged", "first_seen", "last_seen"], batch_size=1000
        )
