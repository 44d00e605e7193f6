"""The admin's paginator: a COUNT with a LIMIT, so a big log costs what a small one does."""

import re

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cookies_app import paginator
from cookies_app.models import Request
from tests import factories


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(paginator, "COUNT_LIMIT", 5)
    return 5


def logged_requests(number):
    factories.requests(factories.visitor(), number)
    return Request.objects.order_by("-id")


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "counted"), [(0, 0), (1, 1), (4, 4), (5, 5), (6, 6), (40, 6)])
def test_count_is_exact_up_to_the_limit_then_capped(small_limit, rows, counted):
    pages = paginator.EstimatedCountPaginator(logged_requests(rows), 2)

    assert pages.count == counted


@pytest.mark.django_db
def test_count_query_carries_a_limit(small_limit):
    pages = paginator.EstimatedCountPaginator(logged_requests(10), 2)

    with CaptureQueriesContext(connection) as queries:
        pages.count  # noqa: B018

    [query] = queries
    assert "COUNT(" in query["sql"].upper()
    assert re.search(r"\bLIMIT 6\b", query["sql"]), query["sql"]


@pytest.mark.django_db
def test_count_limit_is_ten_thousand_rows():
    pages = paginator.EstimatedCountPaginator(Request.objects.all(), 100)

    with CaptureQueriesContext(connection) as queries:
        assert pages.count == 0

    assert paginator.COUNT_LIMIT == 10_000
    assert re.search(r"\bLIMIT 10001\b", queries[0]["sql"]), queries[0]["sql"]


@pytest.mark.django_db
def test_count_is_counted_once(small_limit):
    pages = paginator.EstimatedCountPaginator(logged_requests(3), 2)
    pages.count  # noqa: B018

    with CaptureQueriesContext(connection) as queries:
        assert pages.count == 3
        assert pages.num_pages == 2

    assert len(queries) == 0


@pytest.mark.django_db
def test_count_follows_the_filter(small_limit):
    factories.requests(factories.visitor(), 2, method="POST")
    factories.requests(factories.visitor(), 9, method="GET")

    pages = paginator.EstimatedCountPaginator(Request.objects.filter(method="POST"), 2)

    assert pages.count == 2


@pytest.mark.django_db
def test_pages_show_the_newest_rows_up_to_the_capped_count(small_limit):
    newest = list(logged_requests(10))

    pages = paginator.EstimatedCountPaginator(Request.objects.order_by("-id"), 2)

    assert pages.num_pages == 3
    assert list(pages.page(1)) == newest[:2]
    assert list(pages.page(3)) == newest[4:6]
    with pytest.raises(EmptyPage):
        pages.page(4)


@pytest.mark.django_db
@pytest.mark.parametrize("evaluated", ["list", "queryset"])
def test_count_of_an_evaluated_object_list(small_limit, evaluated):
    rows = logged_requests(10)
    if evaluated == "list":
        rows = list(rows)
    else:
        list(rows)  # fills the QuerySet's result cache: its slices are lists now

    assert paginator.EstimatedCountPaginator(rows, 2).count == 6
