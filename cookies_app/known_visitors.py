"""
The browsers each server process has seen: visitor id by key.

A request logged in the background needs the visitor's id, not its row: the
writer locks the row anyway. A browser this process has seen (the id came
from its own read) is known without a query until this process finds the
row gone (its writer, or its lab page reading the row's jar_version) or
forgets it (forget-me); its next request then reads again and, the row being
gone, gets a new id.
"""

import threading
from collections import OrderedDict

# Keys are 32 characters: 16,384 browsers are a few MB.
SIZE = 16_384


class KnownVisitors:
    def __init__(self, size):
        self.size = size
        self.ids = OrderedDict()  # key -> visitor id, the least recently seen first
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            found = self.ids.get(key)
            if found is not None:
                self.ids.move_to_end(key)
            return found

    def add(self, key, visitor_id):
        with self.lock:
            self.ids[key] = visitor_id
            self.ids.move_to_end(key)
            while len(self.ids) > self.size:
                self.ids.popitem(last=False)

    def discard(self, key):
        with self.lock:
            self.ids.pop(key, None)

    def clear(self):
        with self.lock:
            self.ids.clear()


KNOWN = KnownVisitors(SIZE)
