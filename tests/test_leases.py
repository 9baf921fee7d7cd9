"""Named leases in the history database (`bot.store.leases`), on SQLite and PostgreSQL: one holder at a
time, across connections as separate processes would hold them; a lease that runs out is free."""

from __future__ import annotations

import threading

from bot.store import leases
from tests.conftest import Database

NAME = leases.TOKEN_SWEEP


def test_one_holder_at_a_time_until_it_releases(database: Database) -> None:
    first, second = database.open(), database.open()
    try:
        assert leases.take(first.db, NAME, "a", "C1 U1", 60) is None
        assert leases.take(first.db, NAME, "a", "C1 U1", 60) is None  # its own: taken again
        assert leases.take(second.db, NAME, "b", "C2 U2", 60) == "C1 U1"
        assert leases.renew(first.db, NAME, "a", 60) and not leases.renew(second.db, NAME, "b", 60)
        leases.release(second.db, NAME, "b")  # not its own: nothing happens
        assert leases.take(second.db, NAME, "b", "C2 U2", 60) == "C1 U1"
        leases.release(first.db, NAME, "a")
        assert leases.take(second.db, NAME, "b", "C2 U2", 60) is None
        assert leases.take(first.db, NAME, "a", "C1 U1", 60) == "C2 U2"
    finally:
        first.close()
        second.close()


def test_a_lease_whose_holder_stopped_renewing_it_is_free(database: Database) -> None:
    store = database.open()
    try:
        assert leases.take(store.db, NAME, "dead", "C1 U1", -1) is None  # ran out at once
        assert leases.take(store.db, NAME, "alive", "C2 U2", 60) is None
        assert not leases.renew(store.db, NAME, "dead", 60)  # the dead holder finds it gone
    finally:
        store.close()


def test_many_takers_at_once_get_it_once(database: Database) -> None:
    winners: list[str] = []
    lock = threading.Lock()

    def contend(owner: str) -> None:
        store = database.open()
        try:
            if leases.take(store.db, NAME, owner, f"C {owner}", 60) is None:
                with lock:
                    winners.append(owner)
        finally:
            store.close()

    threads = [threading.Thread(target=contend, args=(f"o{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(winners) == 1, winners
