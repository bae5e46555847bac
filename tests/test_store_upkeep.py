"""The store contract behind `tabledag status`, `gc` and `delete-schemas`, on every store:
committed stages, their tables with rows, garbage a killed run leaves, and deleting an
instance."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tabledag import Config, FinalTaskState, Flow, Stage, Table, materialize

from .conftest import StoreTarget
from .faults import SimulatedCrash


def build(version: str, rows: int) -> Flow:
    @materialize(version=version, name="numbers")
    def numbers() -> Table:
        return Table(pa.table({"n": list(range(rows))}), "numbers")

    @materialize(lazy=True, input_type=str)
    def evens(t: str) -> Table:
        return Table(f"SELECT n FROM {t} WHERE n % 2 = 0", "evens")

    with Flow("upkeep") as flow:
        with Stage("raw"):
            n = numbers()
        with Stage("model"):
            evens(n)
    return flow


def session_of(config: Config):  # type: ignore[no-untyped-def]
    store = config.store_object
    locks = store.locks()
    session = store.open_session()
    session.setup(locks)
    return session, locks


def test_status_garbage_and_delete(target: StoreTarget) -> None:
    config = target.config()
    assert build("1", 10).run(config=config).successful
    session, locks = session_of(config)
    try:
        assert session.committed_stages() == {"raw": 1, "model": 1}
        shown = {t.name: t for s in ("raw", "model") for t in session.stage_tables(s)}
        assert {n: t.rows for n, t in shown.items()} == {"numbers": 10, "evens": 5}
        assert all(t.bytes is None or t.bytes > 0 for t in shown.values())
        assert session.garbage("raw") == [] and session.garbage("model") == []
    finally:
        session.close()
        locks.close()

    # a run killed at its first commit statement leaves the table it wrote, named by no record
    with pytest.raises(SimulatedCrash):
        build("2", 20).run(config=target.faulty(crash_at=["commit", 0]))
    session, locks = session_of(target.config())
    try:
        found = session.garbage("raw")
        assert len(found) == 1 and found[0].startswith("numbers__"), found
        assert found[0] != shown["numbers"].physical
        session.drop_garbage("raw", found)
        assert session.garbage("raw") == []
        assert [t.rows for t in session.stage_tables("raw")] == [10]  # the commit stands
    finally:
        session.close()
        locks.close()
    again = build("1", 10).run(config=target.config())
    assert set(again.states.values()) == {FinalTaskState.CACHE_VALID}

    session, locks = session_of(target.config())
    try:
        dropped = session.delete_instance()
        prefix = target.schema_prefix.lower()
        stages = {d.lower().removeprefix(prefix).split("__")[0] for d in dropped}
        assert {"raw", "model"} <= stages, dropped
        assert session.committed_stages() == {}
    finally:
        session.close()
        locks.close()
    fresh = build("1", 10).run(config=target.config())
    assert set(fresh.states.values()) == {FinalTaskState.COMPLETED}
    assert fresh.get(fresh.flow["raw"].tasks[0], as_type=pa.Table).num_rows == 10
