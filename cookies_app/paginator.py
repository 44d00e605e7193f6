"""A paginator that never counts a big table to its end."""

from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import QuerySet

# Lists show the first pages of newest rows; past this many rows, "more".
COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    """
    Counts at most COUNT_LIMIT + 1 rows (a LIMIT inside the COUNT), so a page
    of a million-row log costs the same as a page of a small one.
    """

    @cached_property
    def count(self):
        # Unordered: the count needs no sort, and PostgreSQL would otherwise sort
        # every matching row to find the first COUNT_LIMIT.
        rows = self.object_list
        head = (rows.order_by() if isinstance(rows, QuerySet) else rows)[: COUNT_LIMIT + 1]
        # A QuerySet counts in the database; a list (or evaluated QuerySet) slices to a list.
        return head.count() if isinstance(head, QuerySet) else len(head)
