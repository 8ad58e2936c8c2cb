"""What every model shares: times in UTC, case-insensitive keys, the id range."""
from datetime import datetime, timezone

# The largest value an INTEGER id column holds on both databases: a larger
# id in a path or a body cannot name a row (and PostgreSQL refuses to compare it).
MAX_ROW_ID = 2**31 - 1


def utcnow():
    """The current time in UTC, naive, as stored in every DateTime column."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def isoformat(moment):
    """A stored UTC time as ISO 8601 with a `Z`, or None."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def city_key(city):
    """The form of a city that comparisons use: trimmed, case-folded; None for none.

    Cities compare case-insensitively everywhere (`springfield` is `Springfield`).
    """
    if city is None:
        return None
    return city.strip().casefold() or None
