"""
Each server process's jars, reused while unchanged.

A request that needs the jar reads its visitor row first; the row's
jar_version tells whether any write changed the jar since this process read it. The writers bump
the number in the transaction that changes the rows (cookie_log.save), and a
purge bumps it after deleting them (retention), so a jar read after a request
saw the new number is never older than that change. A browser reloading a page
is the common case: most requests change nothing (log_batch).
"""

import threading
from collections import OrderedDict

from django.conf import settings

from .jar import load_jar


class JarCache:
    """
    One jar per browser, the least recently used dropped first, within a budget
    of jar rows (``rows``): a row can hold a few KB (a value, a Set-Cookie
    line), so the budget bounds the memory, not the number of browsers.
    """

    def __init__(self, rows):
        self.budget = rows
        self.rows = 0
        self.jars = OrderedDict()  # visitor id -> (key, jar_version, names, rows)
        self.lock = threading.Lock()  # a threaded server (runserver) shares it

    def get(self, visitor, names):
        with self.lock:
            found = self.jars.get(visitor.id)
            # The key too: an id is reused after a rolled-back insert on SQLite.
            if found is not None and found[:3] == (visitor.key, visitor.jar_version, names):
                self.jars.move_to_end(visitor.id)
                return found[3]
        jar = load_jar(visitor, names)
        if len(jar) > self.budget // 4:
            return jar  # a jar this big would push out many: read it each time
        with self.lock:
            old = self.jars.pop(visitor.id, None)
            self.rows -= len(old[3]) if old else 0
            self.jars[visitor.id] = (visitor.key, visitor.jar_version, names, jar)
            self.rows += len(jar)
            while self.rows > self.budget:
                _, dropped = self.jars.popitem(last=False)
                self.rows -= len(dropped[3])
        return jar

    def clear(self):
        with self.lock:
            self.jars.clear()
            self.rows = 0


JARS = JarCache(settings.COOKIE_LAB_JAR_CACHE)


def cached_jar(visitor, names):
    """load_jar for a request's own reading (never to change): this process's copy while current."""
    return JARS.get(visitor, tuple(names))
