"""The run store: every run, its steps, owners and leases, and Slack refusals.

    db.py       one connection, SQLite (`sqlite3`) or PostgreSQL (psycopg 3); errors → ConfigError
    schema.py   numbered migrations, the same on both
    records.py  how a run is laid out: indexed columns + one compressed run@1 document
    owner.py    which process a run belongs to; when that process is gone
    runs.py     HistoryStore: save, read, interrupt, leases, refusals (one thread)
    aio.py      AsyncHistory: the same calls, awaited, on the store's own thread
"""

from bot.store.aio import AsyncHistory
from bot.store.db import Db, Dialect, PostgresDb, SqliteDb
from bot.store.owner import Owner, this_process
from bot.store.records import ORIGIN_KEYS, Via
from bot.store.runs import Change, HistoryStore, Refusal
from bot.store.schema import MIGRATIONS, Migration, migrate

__all__ = ["MIGRATIONS", "ORIGIN_KEYS", "AsyncHistory", "Change", "Db", "Dialect", "HistoryStore", "Migration",
           "Owner", "PostgresDb", "Refusal", "SqliteDb", "Via", "migrate", "this_process"]
