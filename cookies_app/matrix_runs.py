"""
Cross-site matrix runs: their ids, the probes they record, and the table of
what arrived beside what the rules predict.

A run id is a nonce signed with the time its cookies were set, so the server
keeps no row per run and cannot be asked about runs it never started. A run
lives RUN_MAX_AGE; its probes are at most one row per kind of request
(the latest wins), and rows of expired runs go whenever a new run starts.
"""

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.utils import timezone

from . import matrix
from .models import FETCH_SITE_MAX, MatrixProbe
from .setcookie import send_cookie
from .text import capped, escape_controls

RUN_MAX_AGE = timedelta(hours=1)
# A signed run id is ~40 characters; anything much longer is not one.
RUN_MAX_CHARS = 100
SIGNER = signing.TimestampSigner(salt="cookies_app.matrix.run")


class BadRun(ValueError):
    """A run id that is missing, forged or expired; the message says which."""


@dataclass(frozen=True)
class Run:
    nonce: str
    started: datetime

    @property
    def id(self):
        return SIGNER.sign(self.nonce)


@dataclass(frozen=True)
class Cell:
    kind: matrix.RequestKind
    recorded: bool
    arrived: bool
    # Each tested engine's prediction, the visiting engine's first.
    predictions: tuple  # of (engine label, matrix.Prediction)

    @property
    def prediction(self):
        """The prediction of the engine that ran the matrix (Chromium's for any other)."""
        return self.predictions[0][1]

    @property
    def as_predicted(self):
        return self.recorded and self.arrived == self.prediction.sent


def start(response):
    """A new run: set the five test cookies on ``response``, valued with its nonce."""
    MatrixProbe.objects.older_than(timezone.now() - RUN_MAX_AGE).delete()
    nonce = secrets.token_urlsafe(12)
    for cookie in matrix.TEST_COOKIES:
        max_age = int(RUN_MAX_AGE.total_seconds())
        send_cookie(response, replace(cookie, value=nonce, max_age=max_age))
    return SIGNER.sign(nonce)


def parse(run_id):
    """The Run a signed id names; BadRun if it is missing, forged or expired."""
    if not run_id:
        raise BadRun("Missing run: start one from the matrix page.")
    if len(run_id) > RUN_MAX_CHARS:
        raise BadRun("That is not a run id: start one from the matrix page.")
    try:
        nonce = SIGNER.unsign(run_id, max_age=RUN_MAX_AGE)
    except signing.SignatureExpired:
        raise BadRun("This run has expired: start a new one from the matrix page.") from None
    except signing.BadSignature:
        raise BadRun("That is not a run id: start one from the matrix page.") from None
    stamp = run_id.rsplit(SIGNER.sep, 2)[1]
    return Run(nonce, datetime.fromtimestamp(signing.b62_decode(stamp), tz=UTC))


def parse_kind(text):
    """The RequestKind ``text`` names; ValueError (with the choices) otherwise."""
    try:
        return matrix.RequestKind(text)
    except ValueError:
        choices = ", ".join(matrix.RequestKind)
        raise ValueError(f"Unknown kind of request: use one of {choices}.") from None


def record(run, kind, request):
    """Store which test cookies (of this run) came with ``request``, and its Sec-Fetch-*."""
    arrived = [n for n in matrix.TEST_COOKIE_NAMES if request.COOKIES.get(n) == run.nonce]
    headers = request.headers

    def header(name):
        # Controls escaped (PostgreSQL refuses NUL) and capped to the column.
        return capped(escape_controls(headers.get(name, "")), FETCH_SITE_MAX)

    MatrixProbe.objects.update_or_create(
        run=run.nonce,
        kind=kind,
        defaults={
            "started": run.started,
            "at": timezone.now(),
            "method": request.method[:10],
            "arrived": " ".join(arrived),
            "fetch_site": header("Sec-Fetch-Site"),
            "fetch_mode": header("Sec-Fetch-Mode"),
            "fetch_dest": header("Sec-Fetch-Dest"),
            "storage_access": header("Sec-Fetch-Storage-Access"),
        },
    )


def probes(run):
    """{kind: MatrixProbe} recorded for ``run`` (one bounded query, at most a row per kind)."""
    rows = MatrixProbe.objects.filter(run=run.nonce)
    return {matrix.RequestKind(p.kind): p for p in rows if p.kind in matrix.RequestKind}


def table(run, recorded, *, scheme, host, now, engine=matrix.CHROMIUM):
    """
    One row per test cookie: (cookie, attributes, [Cell per kind]). A cell's
    predictions, ``engine``'s first, take the cookies' age when that request
    came (or now).
    """
    engines = sorted(matrix.ENGINES, key=lambda e: e != (engine or matrix.CHROMIUM))

    def age(kind):
        return (recorded[kind].at if kind in recorded else now) - run.started

    rows = []
    for cookie in matrix.TEST_COOKIES:
        cells = []
        for kind in matrix.RequestKind:
            probe = recorded.get(kind)
            third_party = probe is None or matrix.allows_third_party(probe.storage_access)
            predictions = tuple(
                (
                    e.label,
                    matrix.predict(
                        cookie,
                        kind,
                        scheme=scheme,
                        host=host,
                        age=age(kind),
                        third_party_cookies=third_party,
                        engine=e,
                    ),
                )
                for e in engines
            )
            arrived = probe is not None and cookie.name in probe.arrived.split()
            cells.append(Cell(kind, probe is not None, arrived, predictions))
        rows.append((cookie, matrix.attributes(cookie), cells))
    return rows
