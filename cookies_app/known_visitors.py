"""
The browsers each server process has seen: visitor id by key.

A request logged in the background needs the visitor's id, not its row: the
writer locks the row anyway. A browser this process has seen (the id came
from its own read) is known without a query until this process finds the
row gone (its writer, or its lab page reading the row's jar_version) or
forgets it (forget-me); its next request then reads again and, the row being
gone, gets a new id.
"""

from .lru import LRU

# Keys are 32 characters: 16,384 browsers are a few MB.
SIZE = 16_384

KNOWN = LRU(SIZE)  # key -> visitor id
