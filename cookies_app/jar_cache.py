"""
Each server process's jars, reused while unchanged.

A request that needs the jar reads its visitor row first; the row's
jar_version tells whether any write changed the jar since this process read
it. The writers bump the number in the transaction that changes the rows
(cookie_log.save), and a purge bumps it after deleting them (retention), so a
jar read after a request saw the new number is never older than that change.
A browser reloading a page is the common case: most requests change nothing
(log_batch).
"""

from django.conf import settings

from .jar import load_jar
from .lru import LRU


class JarCache:
    """
    One jar per browser within a budget of jar rows (``rows``), the least
    recently used dropped first: a row can hold a few KB (a value, a
    Set-Cookie line), so the budget bounds the memory, not the number of
    browsers.
    """

    def __init__(self, rows):
        self.budget = rows
        # visitor id -> (key, jar_version, names, rows)
        self.jars = LRU(rows, weigh=lambda entry: len(entry[3]))

    @property
    def rows(self):
        return self.jars.weight

    def get(self, visitor, names):
        found = self.jars.get(visitor.id)
        # The key too: an id is reused after a rolled-back insert on SQLite.
        if found is not None and found[:3] == (visitor.key, visitor.jar_version, names):
            return found[3]
        jar = load_jar(visitor, names)
        # A jar over a quarter of the budget would push out many: read each time.
        if len(jar) <= self.budget // 4:
            self.jars.put(visitor.id, (visitor.key, visitor.jar_version, names, jar))
        return jar

    def clear(self):
        self.jars.clear()


JARS = JarCache(settings.COOKIE_LAB_JAR_CACHE)


def cached_jar(visitor, names):
    """load_jar for a request's own reading (never to change): this process's copy while current."""
    return JARS.get(visitor, tuple(names))
