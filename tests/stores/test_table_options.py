"""Per-table options through the public API, seen from outside on DuckDB and Postgres: column
types and NOT NULL in information_schema, unlogged tables in pg_class, the cache key following
the options, and errors that name the task, the table and the column."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from tabledag import ConfigError, DeclarationError, Flow, Stage, Table, materialize
from tests import dbutil

DATABASES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]

FRAME = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": ["a", "bb", None],
        "amount": [1.5, 2.25, None],
    }
)

EXPECTED_TYPES = {
    "duckdb": {"id": "INTEGER", "name": "VARCHAR", "amount": "DECIMAL(12,2)"},
    "postgres": {"id": "integer", "name": "character varying", "amount": "numeric"},
}


def columns(config, stage: str, view: str) -> dict[str, tuple[str, str, int | None]]:
    """column -> (data type, is_nullable, character maximum length) of the physical table
    behind a stage view, from information_schema on a fresh connection."""
    physical = dbutil.view_target(config, stage, view)
    schema = config.store.data_schema_name(stage)
    rows = dbutil.query(
        config,
        "SELECT column_name, data_type, is_nullable, character_maximum_length "
        "FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{physical}'",
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def frame_task(**options):
    @materialize(name="frame")
    def frame() -> Table:
        return Table(FRAME, **options)

    return frame


def lazy_task(**options):
    @materialize(name="lazy", lazy=True, input_type=str)
    def lazy(src: str) -> Table:
        return Table(f"SELECT id, name, amount FROM {src} WHERE id >= 1", **options)

    return lazy


def run(target, *tasks, **config_args):
    """Stage `raw` with `frame`, stage `derived` with the lazy task reading it."""
    frame, lazy = tasks
    with Flow("options") as flow:
        with Stage("raw"):
            src = frame()
        with Stage("derived"):
            lazy(src)
    return flow.run(config=target.config(**config_args))


TYPE_MAP = {"id": "INT", "name": "VARCHAR(20)", "amount": "DECIMAL(12, 2)"}


@pytest.mark.parametrize("store_kind", DATABASES, indirect=True)
def test_type_map_and_non_nullable_are_visible_in_the_catalogue(target) -> None:
    result = run(
        target,
        frame_task(type_map=TYPE_MAP, non_nullable=["id"]),
        lazy_task(type_map={"name": sa.String(30)}, nullable=["name", "amount"]),
    )
    assert result.successful, result.exception
    config = target.config()
    eager = columns(config, "raw", "frame")
    lazy = columns(config, "derived", "lazy")
    expected = EXPECTED_TYPES[target.kind]
    assert {c: eager[c][0] for c in eager} == expected
    assert {c: eager[c][1] for c in eager} == {"id": "NO", "name": "YES", "amount": "YES"}
    # nullable given: every other column is NOT NULL
    assert {c: lazy[c][1] for c in lazy} == {"id": "NO", "name": "YES", "amount": "YES"}
    assert lazy["id"][0] == expected["id"]  # the query keeps the upstream's types
    if target.kind == "postgres":
        assert eager["name"][2] == 20 and lazy["name"][2] == 30
        precision = dbutil.query(
            config,
            "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
            f"WHERE table_schema = '{config.store.data_schema_name('raw')}' "
            f"AND table_name = '{dbutil.view_target(config, 'raw', 'frame')}' "
            "AND column_name = 'amount'",
        )
        assert precision == [(12, 2)]
    rows = dbutil.read_view(config, "derived", "lazy", order_by="id")
    assert rows == [(1, "a", Decimal("1.50")), (2, "bb", Decimal("2.25")), (3, None, None)]


@pytest.mark.parametrize("store_kind", DATABASES, indirect=True)
def test_options_are_part_of_the_cache_key(target) -> None:
    plain = run(target, frame_task(), lazy_task())
    assert plain.successful, plain.exception
    config = target.config()
    first = (
        dbutil.view_target(config, "raw", "frame"),
        dbutil.view_target(config, "derived", "lazy"),
    )
    again = run(target, frame_task(), lazy_task())
    assert again.successful, again.exception
    same = (
        dbutil.view_target(config, "raw", "frame"),
        dbutil.view_target(config, "derived", "lazy"),
    )
    assert same == first  # unchanged options: both tables kept
    typed = run(target, frame_task(type_map={"id": "INT"}), lazy_task(non_nullable="id"))
    assert typed.successful, typed.exception
    frame_now = dbutil.view_target(config, "raw", "frame")
    lazy_now = dbutil.view_target(config, "derived", "lazy")
    assert frame_now != first[0] and lazy_now != first[1]
    assert columns(config, "raw", "frame")["id"][0] == EXPECTED_TYPES[target.kind]["id"]
    assert columns(config, "derived", "lazy")["id"][1] == "NO"
    retyped = run(target, frame_task(type_map={"id": "SMALLINT"}), lazy_task(non_nullable="id"))
    assert retyped.successful, retyped.exception
    assert dbutil.view_target(config, "raw", "frame") not in (first[0], frame_now)
    # the lazy query reads the new upstream table, so it is written again too
    assert dbutil.view_target(config, "derived", "lazy") != lazy_now


@pytest.mark.parametrize("store_kind", DATABASES, indirect=True)
@pytest.mark.parametrize("which", ["frame", "lazy"])
@pytest.mark.parametrize("option", ["type_map", "nullable", "non_nullable"])
def test_an_option_naming_a_missing_column_fails_naming_task_table_and_column(
    target, which: str, option: str
) -> None:
    value = {"idd": "INT"} if option == "type_map" else ["idd"]
    tasks = (frame_task(), lazy_task())
    if which == "frame":
        tasks = (frame_task(**{option: value}), lazy_task())
    else:
        tasks = (frame_task(), lazy_task(**{option: value}))
    result = run(target, *tasks)
    assert not result.successful
    message = str(result.exception)
    for part in (f"task {which!r}", f"table {which!r}", "'idd'", option, "did you mean 'id'"):
        assert part in message, message
    stage = "raw" if which == "frame" else "derived"
    assert not dbutil.physical_tables(target.config(), stage)  # nothing left behind


@pytest.mark.parametrize("store_kind", DATABASES, indirect=True)
def test_not_null_on_a_column_with_nulls_fails_the_task(target) -> None:
    result = run(target, frame_task(non_nullable=["name"]), lazy_task())
    assert not result.successful
    message = str(result.exception)
    assert "task 'frame'" in message and "'frame'" in message and "name" in message


@pytest.mark.parametrize("store_kind", DATABASES, indirect=True)
def test_an_undefined_option_set_fails_naming_it(target) -> None:
    result = run(target, frame_task(materialization_details="fastt"), lazy_task())
    assert not result.successful
    message = str(result.exception)
    assert "task 'frame'" in message and "table 'frame'" in message, message
    assert "'fastt'" in message and "__any__" in message, message


@pytest.mark.parametrize("store_kind", DATABASES, indirect=True)
def test_an_option_the_dialect_lacks_is_a_config_error(target) -> None:
    details = {"__any__": {}, "fast": {"unlogegd": True}}
    with pytest.raises(ConfigError, match=r"'fast'.*unknown option 'unlogegd'") as error:
        target.config(materialization_details=details).store  # noqa: B018
    if target.kind == "postgres":
        assert "did you mean 'unlogged'" in str(error.value)
    with pytest.raises(ConfigError, match="default_materialization_details 'slow'"):
        target.config(  # noqa: B018
            materialization_details={"fast": {}}, default_materialization_details="slow"
        ).store


def persistence(config, stage: str, view: str) -> str:
    physical = dbutil.view_target(config, stage, view)
    schema = config.store.data_schema_name(stage)
    rows = dbutil.query(
        config,
        "SELECT c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = '{schema}' AND c.relname = '{physical}'",
    )
    assert len(rows) == 1
    return str(rows[0][0])


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_unlogged_tables_on_postgres(target) -> None:
    details = {"__any__": {"unlogged": False}, "fast": {"unlogged": True}}
    result = run(
        target,
        frame_task(materialization_details="fast", type_map={"id": "INT"}),
        lazy_task(materialization_details="fast", non_nullable=["id"]),
        materialization_details=details,
    )
    assert result.successful, result.exception
    config = target.config()
    assert persistence(config, "raw", "frame") == "u"
    assert persistence(config, "derived", "lazy") == "u"
    assert columns(config, "derived", "lazy")["id"][1] == "NO"
    before = dbutil.view_target(config, "raw", "frame")
    # the default set, chosen by the store: logged again, and so a new table
    logged = run(
        target, frame_task(type_map={"id": "INT"}), lazy_task(), materialization_details=details
    )
    assert logged.successful, logged.exception
    assert dbutil.view_target(config, "raw", "frame") != before
    assert persistence(config, "raw", "frame") == "p"
    assert persistence(config, "derived", "lazy") == "p"
    # a store default makes every table unlogged
    default = run(
        target,
        frame_task(),
        lazy_task(),
        materialization_details=details,
        default_materialization_details="fast",
    )
    assert default.successful, default.exception
    assert persistence(config, "raw", "frame") == "u"
    assert persistence(config, "derived", "lazy") == "u"


@pytest.mark.parametrize("store_kind", ["parquet"], indirect=True)
def test_a_store_without_database_tables_refuses_column_options(target) -> None:
    result = run(target, frame_task(non_nullable=["id"]), lazy_task())
    assert not result.successful
    assert "does not apply type_map, nullable or non_nullable" in str(result.exception)


def test_table_checks_its_options_when_declared() -> None:
    with pytest.raises(DeclarationError, match="both nullable and non_nullable"):
        Table(FRAME, nullable=["id", "name"], non_nullable=["name"])
    with pytest.raises(DeclarationError, match="type_map must map column names"):
        Table(FRAME, type_map=[("id", "INT")])  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="materialization_details names an option set"):
        Table(FRAME, materialization_details={"unlogged": True})  # type: ignore[arg-type]
    assert Table(FRAME, nullable=[]).nullable == ()


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_a_stage_chooses_the_option_set_of_its_tables(target) -> None:
    """Table over Stage over the store's default, as in pipedag."""
    details = {"__any__": {}, "fast": {"unlogged": True}, "safe": {"unlogged": False}}
    with Flow("stage_options") as flow:
        with Stage("raw", materialization_details="fast"):
            src = frame_task()()
            frame_task(materialization_details="safe").with_name("kept")()
        with Stage("derived"):
            lazy_task()(src)
    result = flow.run(config=target.config(materialization_details=details))
    assert result.successful, result.exception
    config = target.config()
    assert persistence(config, "raw", "frame") == "u"
    assert persistence(config, "raw", "kept") == "p"
    assert persistence(config, "derived", "lazy") == "p"
    with pytest.raises(DeclarationError, match="names an option set"):
        Stage("x", materialization_details=True)  # type: ignore[arg-type]
