"""
The bounded map behind each server process's caches (lab pages, jars, known
browsers): the least recently used entries go first once their weights pass
the budget. Thread-safe: runserver's threads and the log writer share them.
"""

import threading
from collections import OrderedDict


class LRU:
    """
    Values (never None) by key within ``budget``: each entry weighs
    ``weigh(value)``, or 1 without it (a budget of entries).
    """

    def __init__(self, budget, weigh=None):
        self.budget = budget
        self.weigh = weigh
        self.weight = 0
        self.entries = OrderedDict()  # the least recently used first
        self.lock = threading.Lock()

    def get(self, key):
        """The value for ``key``, now the most recently used, or None."""
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key, value):
        """Keep ``value`` for ``key``, dropping the least recently used until within budget."""
        with self.lock:
            self._pop(key)
            self.entries[key] = value
            self.weight += self._weight(value)
            while self.weight > self.budget:
                self._pop(next(iter(self.entries)))

    def pop(self, key):
        with self.lock:
            self._pop(key)

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.weight = 0

    def __iter__(self):
        """The keys, the least recently used first (a copy: safe while others write)."""
        with self.lock:
            return iter(list(self.entries))

    def __len__(self):
        return len(self.entries)

    def _weight(self, value):
        return 1 if self.weigh is None else self.weigh(value)

    def _pop(self, key):
        value = self.entries.pop(key, None)
        if value is not None:
            self.weight -= self._weight(value)
