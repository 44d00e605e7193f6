"""seed_cookie_log: realistic synthetic traffic written through the log's own write path."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from cookies_app.models import ChangeKind, CookieChange, JarCookie, Request, UserAgent, Visitor

REQUESTS = 2000
SEED = 7


def seed(**options):
    out = StringIO()
    call_command("seed_cookie_log", stdout=out, **{"requests": REQUESTS, **options})
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seeded log for the module's read-only tests; removed afterwards."""
    with django_db_blocker.unblock():
        output = seed(seed=SEED)
        yield output
        Visitor.objects.all().delete()
        UserAgent.objects.all().delete()


@pytest.fixture
def log(seeded, db):
    return seeded


def test_writes_exactly_the_requests_asked_for(log):
    assert Request.objects.count() == REQUESTS


def test_default_visitors_are_many_browsers(log):
    # max(1000, N/200), but at most N/20: 100 for 2,000 requests.
    assert Visitor.objects.count() == 100


def test_seq_is_contiguous_per_visitor_and_counters_match(log):
    per_visitor = Visitor.objects.annotate(
        rows=Count("request_log"), first=Min("request_log__seq"), last=Max("request_log__seq")
    )
    for visitor in per_visitor:
        assert (visitor.first, visitor.last, visitor.rows) == (1, visitor.requests, visitor.logged)
        assert visitor.logged == visitor.requests
    assert sum(v.requests for v in per_visitor) == REQUESTS


def test_latest_request_and_seen_times_match_each_visitors_last_request(log):
    for visitor in Visitor.objects.select_related("latest_request"):
        requests = Request.objects.filter(visitor=visitor)
        assert visitor.latest_request.seq == visitor.requests
        assert visitor.first_seen == requests.get(seq=1).at
        assert visitor.last_seen == requests.get(seq=visitor.requests).at


def test_times_increase_with_seq_within_the_last_30_days(log):
    now = timezone.now()
    for visitor in Visitor.objects.all():
        times = list(
            Request.objects.filter(visitor=visitor).order_by("seq").values_list("at", flat=True)
        )
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        # The command's 30 days ended when it ran, a moment before ``now``.
        assert now - timedelta(days=30, minutes=5) <= times[0] and times[-1] <= now


def test_jar_holds_the_mix_of_attributes(log):
    jar = JarCookie.objects.all()
    for lookup in (
        Q(secure=True),
        Q(httponly=True),
        Q(samesite="Lax"),
        Q(samesite="Strict"),
        Q(samesite="None", secure=True),
        Q(partitioned=True),
        Q(signed=True),
        Q(redacted=True),
        Q(name__startswith="__Host-"),
        Q(name__startswith="__Secure-"),
        Q(max_age__isnull=False),
        Q(expires_at__isnull=False, max_age__isnull=True),
        Q(deleted_at__isnull=False),
        Q(path="/cookies/sub/"),
        Q(path="/api/cookies"),
        Q(issued_at__isnull=True),  # set by a script or the CSRF middleware
    ):
        assert jar.filter(lookup).exists(), lookup


def test_cookies_the_browser_drops_never_come_back(log):
    """SameSite=None without Secure is issued and never received (SameSiteNoneInsecure)."""
    dropped = JarCookie.objects.filter(samesite="None", secure=False, issued_at__isnull=False)
    assert dropped.exists()
    assert not dropped.filter(first_seen__isnull=False).exists()


def test_changes_include_issued_appeared_and_cookies_that_stop_coming_back(log):
    kinds = set(CookieChange.objects.values_list("kind", flat=True))
    assert {ChangeKind.ISSUED, ChangeKind.APPEARED, ChangeKind.DELETED} <= kinds
    assert kinds & {ChangeKind.STOPPED, ChangeKind.EXPIRED}
    assert ChangeKind.CHANGED in kinds


def test_unchanged_cookies_write_no_change_rows(log):
    carried = Request.objects.aggregate(total=Sum("cookie_count"))["total"]
    assert carried > 5 * REQUESTS / 2
    assert CookieChange.objects.count() * 5 < carried


def test_requests_carry_what_the_jar_says(log):
    request = Request.objects.filter(cookie_count__gte=3).order_by("id").first()
    rows = JarCookie.objects.filter(id__in=request.carried_ids, visitor=request.visitor_id)
    assert rows.count() == len(request.carried_ids) == request.cookie_count


def test_user_agents_are_real_browsers_of_100_to_150_bytes(log):
    agents = UserAgent.objects.filter(request__isnull=False).distinct()
    assert agents.count() >= 3
    assert all(100 <= len(a.text.encode()) <= 150 for a in agents)


def test_prints_progress_and_rate(log):
    assert "requests/s" in log
    assert f"Seeded {REQUESTS:,} requests" in log


def small_log_fingerprint(visitors):
    """What a run wrote, without ids, absolute times or signatures (they carry the time)."""
    keys = {v.id: v.key for v in visitors}
    starts = {v.id: v.first_seen for v in visitors}
    names = dict(JarCookie.objects.filter(visitor__in=keys).values_list("id", "name"))
    requests = [
        (keys[r.visitor_id], r.seq, r.at - starts[r.visitor_id], r.method, r.path, r.host)
        + (r.fetch_site, r.status, r.cookie_count, [names[i] for i in r.carried_ids])
        for r in Request.objects.filter(visitor__in=keys).order_by("visitor__key", "seq")
    ]
    jar = list(
        JarCookie.objects.filter(visitor__in=keys)
        .order_by("visitor__key", "name", "path")
        .values_list("visitor__key", "name", "path", "present", "secure", "samesite", "signed")
    )
    changes = list(
        CookieChange.objects.filter(visitor__in=keys)
        .exclude(cookie__signed=True)
        .order_by("visitor__key", "request__seq", "kind", "cookie__name")
        .values_list("visitor__key", "request__seq", "kind", "cookie__name", "value")
    )
    return requests, jar, changes


def seeded_visitors(**options):
    before = Visitor.objects.aggregate(last=Max("id"))["last"] or 0
    seed(requests=300, visitors=10, **options)
    return list(Visitor.objects.filter(id__gt=before).order_by("key"))


@pytest.mark.django_db
def test_the_same_seed_writes_the_same_log():
    first = seeded_visitors(seed=11)
    expected = small_log_fingerprint(first)
    Visitor.objects.filter(id__in=[v.id for v in first]).delete()
    again = seeded_visitors(seed=11)
    assert small_log_fingerprint(again) == expected
    other = seeded_visitors(seed=12)
    assert small_log_fingerprint(other) != expected


@pytest.mark.django_db
def test_refuses_a_seed_already_in_the_log():
    seed(requests=50, visitors=5, seed=21)
    with pytest.raises(CommandError, match="another --seed"):
        seed(requests=50, visitors=5, seed=21)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"requests": 0}, "--requests must be a positive number"),
        ({"requests": -5}, "--requests must be a positive number"),
        ({"visitors": 0}, "--visitors must be between 1 and --requests"),
        ({"requests": 10, "visitors": 11}, "--visitors must be between 1 and --requests"),
        ({"days": 0}, "--days must be between 1 and 3650"),
        ({"days": 4000}, "--days must be between 1 and 3650"),
        ({"batch": 0}, "--batch must be between 1 and 100000"),
    ],
)
@pytest.mark.django_db
def test_refuses_bad_arguments(options, message):
    before = Visitor.objects.count()
    with pytest.raises(CommandError, match=message):
        seed(**options)
    assert Visitor.objects.count() == before


def test_requests_is_required():
    with pytest.raises(CommandError, match="--requests"):
        call_command("seed_cookie_log", stdout=StringIO())


def test_visitors_seen_fields_are_consistent(log):
    assert not Visitor.objects.filter(last_seen__lt=F("first_seen")).exists()
