"""
How long the cookie log keeps things: ``prune`` deletes what is older than the
retention period, ``forget`` deletes one visitor's whole log on request.

Every DELETE removes at most one batch of rows, chosen by id, in its own short
transaction, so the lab's writers (SQLite takes its write lock at BEGIN) wait at
most one batch. Children go before their parents, explicitly: no DELETE turns
into a cascade of unknown size.
"""

import logging
import time
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q

from . import rollup
from .jar_versions import VERSIONS
from .known_visitors import KNOWN
from .models import CookieChange, JarCookie, Request, Tally, UserAgent, Visitor

logger = logging.getLogger(__name__)


@dataclass
class Pruned:
    """Rows deleted (or, in a dry run, that would be) per table."""

    visitors: int = 0
    jar_cookies: int = 0
    requests: int = 0
    changes: int = 0
    user_agents: int = 0
    tallies: int = 0

    def __add__(self, other):
        return Pruned(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def items(self):
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def prune(older_than: datetime, batch_size=5000, sleep=0):
    """
    Delete visitors unseen since ``older_than`` with their whole log, then the
    other visitors' changes and requests older than it, then user agents no
    request uses. Jar rows of remaining visitors stay: they are the current state.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more.")
    counts = Pruned()
    for ids in _pages(Visitor.objects.unseen_since(older_than), batch_size, sleep):
        # Re-checked at every step: a visitor back since the page was read stays.
        visitors = Visitor.objects.filter(pk__in=ids).unseen_since(older_than)
        counts += _purge(visitors, batch_size, sleep, unseen_since=older_than)
    counts.changes += _drain(CookieChange.objects.older_than(older_than), batch_size, sleep)
    for ids in _pages(_old_requests(older_than), batch_size, sleep):
        with transaction.atomic():
            # A change is as old as its request, so none should be left; any that is
            # (a clock step) would block the DELETE, so it goes first.
            counts.changes += _delete_ids(CookieChange, ids, column="request_id")
            counts.requests += _delete_ids(Request, ids)
    counts.user_agents = _prune_user_agents(batch_size, sleep)
    counts.tallies = _drain(_old_tallies(older_than), batch_size, sleep)
    return counts


def _old_tallies(older_than):
    """The dashboard's counts of whole days before the cutoff's: what the log no longer explains."""
    return Tally.objects.filter(period__lt=rollup.day_start(older_than))


def would_prune(older_than: datetime):
    """What ``prune(older_than)`` would delete now, counted without deleting."""
    unseen = Visitor.objects.unseen_since(older_than)
    old_requests = _old_requests(older_than).values("pk")
    doomed = Q(visitor__in=unseen) | Q(pk__in=old_requests)
    kept = Request.objects.exclude(doomed).filter(user_agent__isnull=False)
    return Pruned(
        visitors=unseen.count(),
        jar_cookies=JarCookie.objects.filter(visitor__in=unseen).count(),
        requests=Request.objects.filter(doomed).count(),
        changes=CookieChange.objects.filter(
            Q(visitor__in=unseen) | Q(at__lt=older_than) | Q(request__in=old_requests)
        ).count(),
        user_agents=UserAgent.objects.exclude(pk__in=kept.values("user_agent_id")).count(),
        tallies=_old_tallies(older_than).count(),
    )


def forget(visitor: Visitor):
    """
    Delete one visitor's whole log (changes, requests, jar, the visitor row)
    in one transaction holding the visitor's lock: a request of the same
    browser logging meanwhile waits, then finds the visitor gone and logs
    nothing, instead of writing rows that point at deleted ones.
    """
    qn = connection.ops.quote_name
    counts = {}
    with transaction.atomic():
        # Once gone: this process's next request of it reads again, finds
        # nothing and gets a new id.
        transaction.on_commit(partial(_forgotten, visitor))
        if not Visitor.objects.select_for_update().filter(pk=visitor.pk).exists():
            return Pruned()
        Visitor.objects.filter(pk=visitor.pk).update(latest_request=None)
        with connection.cursor() as cursor:
            for name, model in (
                ("changes", CookieChange),
                ("requests", Request),
                ("jar_cookies", JarCookie),
                ("visitors", Visitor),
            ):
                column = "id" if model is Visitor else "visitor_id"
                cursor.execute(
                    f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(column)} = %s",
                    [visitor.pk],
                )
                counts[name] = cursor.rowcount
    return Pruned(**counts)


def _forgotten(visitor):
    KNOWN.pop(visitor.key)
    VERSIONS.gone(visitor.pk)


def _old_requests(older_than):
    # A visitor's latest request stays however old: the admin's round-trip
    # verdicts are judged as of it, and the log compares a new request's seq
    # with it. It is one row per visitor.
    is_latest = Visitor.objects.filter(latest_request=OuterRef("pk"))
    return Request.objects.older_than(older_than).filter(~Exists(is_latest))


def _purge(visitors, batch_size, sleep, unseen_since=None):
    """Delete ``visitors`` (a bounded queryset) with their log, children first."""
    counts = Pruned()
    counts.changes = _drain(CookieChange.objects.filter(visitor__in=visitors), batch_size, sleep)
    # Their latest requests are about to go: nothing may point at them.
    visitors.update(latest_request=None)
    counts.requests = _drain(Request.objects.filter(visitor__in=visitors), batch_size, sleep)
    jar_owners = list(visitors.values_list("pk", flat=True))
    counts.jar_cookies = _drain(JarCookie.objects.filter(visitor__in=visitors), batch_size, sleep)
    # A visitor the DELETE below spares (it came back meanwhile) has lost its
    # rows: no server process may keep serving the jar it cached (jar_cache).
    Visitor.objects.filter(pk__in=jar_owners).update(jar_version=F("jar_version") + 1)
    ids = list(visitors.values_list("pk", flat=True))
    with transaction.atomic():
        # The DELETE itself re-checks last_seen: on PostgreSQL a visitor whose
        # request updated the row after the read above is then left alone.
        counts.visitors = _delete_ids(Visitor, ids, unseen_since=unseen_since)
    return counts


def _drain(rows, batch_size, sleep):
    """Delete all ``rows``, one batch per transaction; returns how many went."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by().values_list("pk", flat=True)[:batch_size])
            deleted += _delete_ids(rows.model, ids)
        if len(ids) < batch_size:
            return deleted
        time.sleep(sleep)


def _pages(rows, batch_size, sleep):
    """
    Ids of ``rows`` in pages of at most ``batch_size``, walking the primary key,
    so rows left in place (a latest request, a visitor still seen) are read once.
    """
    last = 0
    while True:
        page = rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)
        ids = list(page[:batch_size])
        if ids:
            yield ids
        if len(ids) < batch_size:
            return
        last = ids[-1]
        time.sleep(sleep)


def _prune_user_agents(batch_size, sleep):
    # One NOT IN over request.user_agent_id per page (the column has no index:
    # every logged request would pay for one); agents are few, so pages are too.
    used = Request.objects.filter(user_agent__isnull=False).values("user_agent_id")
    deleted = 0
    for ids in _pages(UserAgent.objects.exclude(pk__in=used), batch_size, sleep):
        try:
            with transaction.atomic():
                deleted += _delete_ids(UserAgent, ids)
        except IntegrityError:
            # A request logged meanwhile took one of these agents (the deferred
            # foreign key check caught it); the next run tries the rest again.
            logger.warning("prune: a user agent came back into use; batch left for next run")
    return deleted


def _delete_ids(model, ids, column=None, unseen_since=None):
    """One ``DELETE ... WHERE column IN (ids)``; the caller removed the children."""
    if not ids:
        return 0
    qn = connection.ops.quote_name
    column = column or model._meta.pk.column
    marks = ", ".join(["%s"] * len(ids))
    sql = f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(column)} IN ({marks})"
    params = list(ids)
    if unseen_since is not None:
        sql += f" AND {qn('last_seen')} < %s"
        params.append(connection.ops.adapt_datetimefield_value(unseen_since))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
