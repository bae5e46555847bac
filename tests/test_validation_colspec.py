"""Annotation-driven validation with pydiverse.colspec: a `cs.ColSpec` on a parameter or a
return value, a `cs.Collection` of several tables; failures name task, table, rules, counts.
On DuckDB and PostgreSQL. (tests/test_validation.py covers the modes and dataframely.)
"""

from pathlib import Path
from typing import Any

import pytest

from tabledag import DeclarationError, Flow, Stage, TableValidationError, materialize

cs = pytest.importorskip("pydiverse.colspec")

from . import colspec_tasks as ct  # noqa: E402  (after the importorskip)
from .conftest import StoreTarget, _make_target, _release  # noqa: E402
from .dbutil import read_view  # noqa: E402
from .test_validation import SQL_STORES, cause, column_type, config_for  # noqa: E402


@pytest.fixture(params=SQL_STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    target = _make_target(request.param, tmp_path)
    yield target
    _release(target)


def test_a_column_specification_casts_inputs_and_outputs(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("colspec") as flow:
        with Stage("src"):
            people = ct.people(False)
            ct.make_people(False)
        with Stage("use"):
            ct.read_spec(people)
            ct.read_spec_default(people)
    result = flow.run(config=config)
    assert result.successful, result.exception
    assert read_view(config, "use", "read_spec") == [(5, "Int16")]
    assert read_view(config, "use", "read_spec_default") == [(5, "Int16")]
    assert column_type(config, "src", "people", "age") == "bigint"
    assert column_type(config, "src", "make_people", "age") == "smallint"


@pytest.mark.parametrize("task", [ct.read_spec, ct.read_spec_default])
def test_an_input_failing_its_column_specification_fails_the_task(
    db: StoreTarget, task: Any
) -> None:
    with Flow("colspec") as flow:
        with Stage("src"):
            people = ct.people(True)
        with Stage("use"):
            call = task(people)
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, TableValidationError)
    text = str(error)
    assert f"task {task.name!r} in stage 'use': input table of parameter 'people'" in text
    assert "fails validation with PersonSpec" in text
    assert "table src.people: 3 of 5 rows invalid; failed rules (rows): " in text
    assert "age|min: 2, name|nullability: 1" in text
    assert error.failures == {"src.people": {"age|min": 2, "name|nullability": 1}}


def test_an_output_failing_its_column_specification_fails_the_task(db: StoreTarget) -> None:
    with Flow("colspec") as flow, Stage("out"):
        call = ct.make_people(True)
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, TableValidationError)
    assert "output table fails validation with PersonSpec" in str(error)
    assert error.failures == {"out.make_people": {"age|min": 2, "name|nullability": 1}}


def test_a_colspec_collection_in_and_out(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("colspec") as flow:
        with Stage("src"):
            tables = ct.shop_tables(False)
            bad_tables = ct.shop_tables.with_name("bad_tables")(True)
            made = ct.make_shop(False)
        with Stage("use"):
            ct.read_shop(tables)
            ct.read_shop.with_name("read_made")(made)
        with Stage("bad_in"):
            bad_in = ct.read_shop.with_name("read_bad")(bad_tables)
    result = flow.run(config=config)
    assert read_view(config, "use", "read_shop") == [(3, 4, "Int16")]
    assert read_view(config, "use", "read_made") == [(3, 4, "Int16")]
    assert column_type(config, "src", "make_shop_people", "age") == "smallint"
    error = cause(result, bad_in.call)
    assert isinstance(error, TableValidationError)
    assert "input collection of parameter 'shop' fails validation with ShopSpec" in str(error)
    assert error.failures == {
        "src.bad_tables_people": {"ordered_something": 1},
        "src.bad_tables_orders": {"amount|min": 1},
    }
    with Flow("colspec_out") as flow, Stage("bad_out"):
        bad_out = ct.make_shop.with_name("bad_shop")(True)
    result = flow.run(config=config)
    error = cause(result, bad_out.call)
    assert isinstance(error, TableValidationError)
    assert error.failures == {
        "bad_out.bad_shop_people": {"ordered_something": 1},
        "bad_out.bad_shop_orders": {"amount|min": 1},
    }


def test_wrong_kinds_of_colspec_annotation_are_declaration_errors() -> None:
    @materialize
    def base_spec(people: cs.ColSpec) -> None: ...

    @materialize
    def listed(shops: list[ct.ShopSpec]) -> None: ...

    cases = {
        base_spec: "colspec object ColSpec, which tabledag cannot validate tables with",
        listed: "nests the collection ShopSpec",
    }
    for task, message in cases.items():
        with pytest.raises(DeclarationError) as caught, Flow("declare"), Stage("src"):
            task(ct.people(False))
        assert message in str(caught.value), (task, str(caught.value))


def test_a_dataclass_collection_built_while_declaring(db: StoreTarget) -> None:
    """pipedag's realistic pipeline builds its colspec collection from task outputs while
    declaring the flow and passes it whole; an optional member left out stays None."""
    config = config_for(db)
    with Flow("colspec") as flow:
        with Stage("src"):
            shop = ct.ShopData(people=ct.people(False), orders=ct.orders(False))
            bad = ct.ShopData(
                people=ct.people.with_name("bad_people")(False),
                orders=ct.orders.with_name("bad_orders")(True),
            )
        with Stage("use"):
            ct.read_shop_data(shop)
        with Stage("use_bad"):
            failing = ct.read_shop_data.with_name("read_bad")(bad)
    result = flow.run(config=config)
    assert read_view(config, "use", "read_shop_data") == [(5, 4)]
    error = cause(result, failing.call)
    assert isinstance(error, TableValidationError)
    assert error.failures == {"src.bad_orders": {"amount|min": 1}}
    assert "table src.bad_orders: 1 of 3 rows invalid" in str(error)
