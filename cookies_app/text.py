"""Small text helpers shared by the log, the page and the JSON answers."""

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape_controls(text):
    """Control characters as visible \\xNN escapes (and storable in PostgreSQL)."""
    if text.isprintable():
        return text  # no control character (the common case, at C speed)
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def byte_size(text):
    """UTF-8 bytes, the unit browsers count cookies in."""
    return len(text.encode("utf-8", "surrogatepass"))


def capped(text, limit):
    """``text`` cut to ``limit`` characters: a column's length, enforced before the database."""
    return text[:limit]
