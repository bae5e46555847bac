"""Tasks annotated with dataframely schemas and collections, for tests/test_validation.py.

Module-level, so they pickle to worker processes by import path (their annotations with them).
No `from __future__ import annotations`: dataframely collections need their annotations as
objects.
Every consumer reports what it received (row count, the polars type of `age`, its frame type),
so a test sees the cast and the frame type the annotation implied.
"""

import dataframely as dy
import ibis
import pandas as pd
import polars as pl

from tabledag import Table, materialize


class Person(dy.Schema):
    id = dy.Int64(primary_key=True)
    age = dy.Int16(min=0)
    name = dy.String(nullable=False)


class Order(dy.Schema):
    id = dy.Int64(primary_key=True)
    line = dy.Int64(primary_key=True)
    amount = dy.Float64(min=0)


class Shop(dy.Collection):
    people: dy.LazyFrame[Person]
    orders: dy.LazyFrame[Order]

    @dy.filter()
    def ordered_something(self) -> pl.LazyFrame:
        """Every person has at least one order."""
        return self.people.join(self.orders, on="id", how="semi")


def people_rows(bad: bool) -> dict[str, list]:
    """Five people; with `bad`, two negative ages and one missing name (3 invalid rows)."""
    if not bad:
        return {"id": [1, 2, 3, 4, 5], "age": [30, 41, 52, 63, 74], "name": list("abcde")}
    return {"id": [1, 2, 3, 4, 5], "age": [30, -1, 52, -5, 74], "name": ["a", "b", None, "d", "e"]}


@materialize(version="1")
def people(bad: bool) -> pl.DataFrame:
    """Stored as written: `age` is Int64 here, and the annotations downstream cast it."""
    return pl.DataFrame(people_rows(bad))


def _report(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"row_count": [frame.height], "age_type": [str(frame.schema["age"])], "kind": [kind]}
    )


@materialize
def read_lazy(people: dy.LazyFrame[Person]) -> pl.DataFrame:
    return _report(people.collect(), type(people).__name__)


@materialize(input_type=pl.DataFrame)
def read_eager(people: dy.DataFrame[Person]) -> pl.DataFrame:
    return _report(people, type(people).__name__)


@materialize
def read_bare(people: Person) -> pl.DataFrame:
    """A bare schema: read as a polars DataFrame (no input_type declared)."""
    return _report(people, type(people).__name__)


@materialize(input_type=pl.LazyFrame)
def read_bare_lazy(people: Person) -> pl.DataFrame:
    """A bare schema with input_type=pl.LazyFrame: read lazily."""
    return _report(people.collect(), type(people).__name__)


@materialize(input_type=pl.LazyFrame)
def read_mixed(people: dy.LazyFrame[Person], other) -> pl.DataFrame:
    """An annotated parameter beside one read as the task's input_type, neither cast nor
    checked (its `age` stays Int64)."""
    assert isinstance(other, pl.LazyFrame)
    assert other.collect_schema()["age"] == pl.Int64
    return _report(people.collect(), type(people).__name__)


@materialize
def read_list(people: list[dy.LazyFrame[Person]]) -> pl.DataFrame:
    return _report(pl.concat([p.collect() for p in people]), "list")


@materialize
def read_many(*people: dy.LazyFrame[Person]) -> pl.DataFrame:
    """A variadic parameter: its annotation is each argument's."""
    return _report(pl.concat([p.collect() for p in people]), "varargs")


@materialize(version="1")
def make_people(bad: bool) -> dy.DataFrame[Person]:
    """A return annotation: the output is validated and stored cast (`age` as Int16)."""
    return pl.DataFrame(people_rows(bad))


@materialize(version="1")
def make_named_people(bad: bool) -> Person:
    return Table(pl.DataFrame(people_rows(bad)), name="named_people")


@materialize(version="1", nout=2)
def make_pair(bad: bool) -> tuple[dy.DataFrame[Person], pl.DataFrame]:
    """Only the first of the two outputs is annotated (and checked)."""
    return pl.DataFrame(people_rows(bad)), pl.DataFrame(people_rows(True))


@materialize(lazy=True, input_type=ibis.Table)
def ibis_people(people: Person, shift: int) -> Person:
    """A lazy task asking for queries: the input is not read (nor checked) and arrives as
    ibis, uncast; the query's result is checked once the database has written it."""
    assert isinstance(people, ibis.Table)
    return people.mutate(age=people.age - shift)


@materialize(input_type=pd.DataFrame)
def pandas_people(people: Person, shift: int) -> Person:
    """A pandas output under a schema: checked, cast and stored as polars."""
    assert isinstance(people, pd.DataFrame)
    return people.assign(age=people["age"] - shift)


def shop_rows(bad: bool) -> tuple[dict[str, list], dict[str, list]]:
    """Three people and their orders; with `bad`, person 3 has no order (the collection's
    filter) and one order has a negative amount."""
    persons = {"id": [1, 2, 3], "age": [30, 40, 50], "name": ["a", "b", "c"]}
    orders = {"id": [1, 1, 2, 3], "line": [1, 2, 1, 1], "amount": [5.0, 6.0, 7.0, 8.0]}
    if bad:
        orders = {"id": [1, 1, 2], "line": [1, 2, 1], "amount": [5.0, -6.0, 7.0]}
    return persons, orders


@materialize(version="1")
def shop_tables(bad: bool) -> dict[str, pl.DataFrame]:
    persons, orders = shop_rows(bad)
    return {"people": pl.DataFrame(persons), "orders": pl.DataFrame(orders)}


@materialize
def read_shop(shop: Shop) -> pl.DataFrame:
    assert isinstance(shop, Shop)
    people, orders = shop.people.collect(), shop.orders.collect()
    return pl.DataFrame(
        {
            "people": [people.height],
            "orders": [orders.height],
            "age_type": [str(people.schema["age"])],
            "kind": [type(shop).__name__],
        }
    )


@materialize(version="1")
def make_shop(bad: bool) -> Shop:
    """A collection returned: validated, its members stored as `make_shop_people` / `_orders`."""
    persons, orders = shop_rows(bad)
    return Shop.cast({"people": pl.DataFrame(persons), "orders": pl.DataFrame(orders)})


@materialize(version="1")
def missing_column() -> pl.DataFrame:
    return pl.DataFrame({"id": [1], "age": [3]})
