"""The database connection of a request, and tuning that must hold for every connection.

Both databases run in autocommit mode (`isolation_level="AUTOCOMMIT"`, set in
config.engine_options): each statement is a transaction of its own, committed
inside the one call that runs it.

- SQLite has a single write lock. In its default mode a write keeps that lock
  until the later commit(), and between the two calls the thread must get
  the GIL back, waiting behind every other busy thread while every other
  writer waits behind it. Under load that convoy cut refreshes several
  times over; in autocommit the lock lives only inside SQLite.
- On PostgreSQL it saves the BEGIN, COMMIT and ROLLBACK round trips around
  every request (docs/performance.md has both measurements).

The sign-in paths need nothing more: each of their writes is one statement
(rotation is one compare-and-set UPDATE, an audit event one INSERT, ending
sessions one UPDATE), and races are settled by those single statements. One
rule follows for SQLite: a write must not return rows (no RETURNING). It
keeps the lock until Python has fetched them, which is the same convoy again.

A change that writes several rows (a ticket, its event, its audit row) runs
inside `transaction()`, which opens a real transaction on the connection
and commits every row together, or none.

Each request takes one connection from the pool and the ORM session runs on
it (`connection`, `RequestSession`), so prepared Core statements can run on
it directly and no request holds two.
"""
from contextlib import contextmanager

from flask import current_app, g
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import Engine


SQLITE_PAGE_CACHE_KIB = 512  # a quarter of SQLite's default, per connection


@event.listens_for(Engine, "connect")
def tune_sqlite_connection(dbapi_connection, connection_record):
    """WAL and a busy timeout, so concurrent writers wait instead of failing; a small page cache.

    Without them, simultaneous refreshes and audit writes on SQLite fail with
    "database is locked". The page cache is kept small: each pooled
    connection keeps its own copy of the pages it read, on top of the
    operating system's cache of the same file, and on a large database every
    connection fills its cache, so the server's memory grew with the data
    (docs/performance.md). PostgreSQL connections are left alone.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_PAGE_CACHE_KIB}")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] not in ("memory",):
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()



def connection():
    """This request's one database connection, taken from the pool at first use.

    The ORM session runs on it too (`RequestSession`), so a request never
    holds two connections and cannot wait for a second one while holding
    the first. The statements every request runs (the refresh's UPDATE,
    sign-in's session rows, audit rows) are prepared Core statements
    executed on it directly: through the ORM session they paid for the
    session's life cycle too, as much as the statements themselves
    (docs/performance.md). Handed back by `release_connection`.
    """
    if "db_connection" not in g:
        g.db_connection = current_app.extensions["sqlalchemy"].engine.connect()
    return g.db_connection


def release_connection(exception=None):
    """At the end of the request (app context): close the ORM session, hand the connection back."""
    held = g.pop("db_connection", None)
    if held is not None:
        current_app.extensions["sqlalchemy"].session.remove()
        held.close()


@contextmanager
def transaction():
    """Everything written inside commits together, or nothing does.

    The connection's driver runs in autocommit, so the transaction is opened
    and ended with SQL, the way SQLAlchemy's own recipe for SQLite does.
    SQLite's BEGIN IMMEDIATE takes the write lock at once: reads inside see
    no other writer, and a late upgrade to a write can never fail. Inside,
    the ORM may add and flush, never commit (a commit would end this
    transaction early); Core statements run on `connection()` as usual.
    """
    connection_ = connection()
    connection_.exec_driver_sql(
        "BEGIN IMMEDIATE" if connection_.dialect.name == "sqlite" else "BEGIN")
    session = current_app.extensions["sqlalchemy"].session
    try:
        yield connection_
    except BaseException:
        try:
            connection_.exec_driver_sql("ROLLBACK")
        except DBAPIError:
            pass  # already over: a flush that fails rolls the connection back itself
        session.rollback()  # the ORM forgets what it flushed
        raise
    connection_.exec_driver_sql("COMMIT")
    session.commit()  # the ORM's objects now match what was committed (and reload)


class RequestSession(Session):
    """Flask-SQLAlchemy's session, bound to the request's connection (`connection()`)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else connection()


def paginate(query, page, per_page):
    """Flask-SQLAlchemy's pagination of `query`; a page past the end is the last page."""
    db = current_app.extensions["sqlalchemy"]
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if pagination.page > 1 and pagination.page > pagination.pages:
        pagination = db.paginate(query, page=max(pagination.pages, 1), per_page=per_page,
                                 error_out=False)
    return pagination
