"""
Expiry dates at the edges of the calendar: one accepted range, stated in every refusal.

Python's datetime stops at years 1 and 9999, so 0001-01-01T00:00+01:00 or
9999-12-31T23:59-01:00 overflow when converted to UTC. Browsers treat any past
expiry as a deletion and ignore an Expires before 1601 (RFC 6265bis §5.1.1),
which would silently make a session cookie instead. So the lab accepts the epoch
(delete now) to the last second of 9999, UTC, and refuses the rest with a reason.
"""

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
RANGE = "between 1970-01-01 and 9999-12-31 UTC"
MAX_OFFSET = timedelta(hours=24)
# A written year of three digits or more (HTTP date parsers read "0001" as 2001,
# as browsers do): after a space or comma, or after "Nov-" in an RFC 850 date,
# never a "+0100" or " -0100" UTC offset.
WRITTEN_YEAR = re.compile(r"(?:(?<=[\s,])|(?<=[A-Za-z]-))(\d{3,})(?=[\s,-]|$)")


class ExpiryError(ValueError):
    """A date the lab will not send as an expiry; the message says why and what to send."""


def in_range(when):
    """Whether an aware or naive (UTC) datetime lies in the accepted range, without overflow."""
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    # Comparing aware datetimes subtracts offsets without building a new datetime.
    return EARLIEST <= when <= LATEST


def to_utc(when, label):
    """``when`` (naive means UTC) as an aware UTC datetime in range, or ExpiryError."""
    offset = when.utcoffset() or timedelta(0)
    try:
        utc = (when.replace(tzinfo=None) - offset).replace(tzinfo=UTC)
    except OverflowError:  # past year 1 or 9999 once the offset is applied
        utc = None
    if utc is None or not in_range(utc):
        # Only years 1 and 9999 overflow, so the year tells which end was passed.
        raise ExpiryError(out_of_range(label, when.isoformat(), early=when.year < 5000))
    return utc


def parse_http_date(text, label):
    """
    An HTTP date (IMF-fixdate, RFC 850 or asctime, as email.utils reads them)
    as an aware UTC datetime; None when ``text`` is not one; ExpiryError when it
    is one but not a real date in range.
    """
    try:
        parts = parsedate_tz(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parts is None:
        return None
    written = [int(y) for y in WRITTEN_YEAR.findall(text)]
    year = next((y for y in written if not 1000 <= y <= 9999), parts[0])
    if not 1000 <= year <= 9999:
        raise ExpiryError(out_of_range(label, f"year {year:04d}", year < 1000))
    try:
        offset = timedelta(seconds=parts[9] or 0)
    except OverflowError:
        offset = MAX_OFFSET
    if abs(offset) >= MAX_OFFSET:
        raise ExpiryError(
            f"{label} has a UTC offset of a day or more: write the time in GMT, such as "
            "'Wed, 21 Oct 2026 07:28:00 GMT'."
        )
    try:
        when = datetime(*parts[:6], tzinfo=timezone(offset))
    except (ValueError, OverflowError) as error:  # 31 Feb, hour 25, a 20-digit minute...
        raise ExpiryError(f"{label} is not a real date and time ({error}): {text!r}.") from None
    return to_utc(when, label)


def out_of_range(label, what, early):
    if early:
        return (
            f"{label} must be {RANGE}; {what} is earlier. Any past date deletes the "
            "cookie: to delete it, use 1970-01-01 00:00:00 UTC (the epoch)."
        )
    return (
        f"{label} must be {RANGE}; {what} is later. Browsers keep a cookie at most 400 days anyway."
    )
