"""A paginator that never counts a big table to its end."""

from functools import cached_property

from django.core.paginator import Paginator

# Lists show the first pages of newest rows; past this many rows, "more".
COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    """
    Counts at most COUNT_LIMIT + 1 rows (a LIMIT inside the COUNT), so a page
    of a million-row log costs the same as a page of a small one.
    """

    @cached_property
    def count(self):
        return self.object_list[: COUNT_LIMIT + 1].count()
