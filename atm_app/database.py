"""Database engine tuning that must hold for every connection.

Both databases run in autocommit mode (`isolation_level="AUTOCOMMIT"`, set in
config.engine_options): each statement is a transaction of its own, committed
inside the one call that runs it.

- SQLite has a single write lock. In its default mode a write keeps that lock
  until the later commit(), and between the two calls the thread must get
  the GIL back, waiting behind every other busy thread while every other
  writer waits behind it. Under load that convoy held refreshes to ~140/s on
  2 processes x 6 threads; in autocommit the lock lives only inside SQLite
  and the same setup does ~850/s.
- On PostgreSQL it saves the BEGIN, COMMIT and ROLLBACK round trips around
  every request: ~1,000 -> ~1,250 `me`/s and ~500 -> ~620 refreshes/s
  (docs/performance.md).

It costs nothing we rely on: every write path commits each write on its own
(rotation is one compare-and-set UPDATE, an audit event one INSERT, ending
sessions one UPDATE), and races are settled by those single statements, not
by transactions.
"""
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
