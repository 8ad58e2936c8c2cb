"""Database engine tuning that must hold for every connection."""
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def tune_sqlite_connection(dbapi_connection, connection_record):
    """WAL and a busy timeout, so concurrent writers wait instead of failing.

    Without them, simultaneous refreshes and audit writes on SQLite fail with
    "database is locked". PostgreSQL connections are left alone.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] not in ("memory",):
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
