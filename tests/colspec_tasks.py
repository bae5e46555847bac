"""Tasks annotated with pydiverse.colspec column specifications and collections, for
tests/test_validation_colspec.py (module-level: they pickle by import path). No
`from __future__ import annotations`: colspec collections need their annotations as objects.
"""

from dataclasses import dataclass

import polars as pl
import pydiverse.colspec as cs

from tabledag import materialize

from .validation_tasks import people_rows, shop_rows


class PersonSpec(cs.ColSpec):
    id = cs.Int64(primary_key=True)
    age = cs.Int16(min=0)
    name = cs.String(nullable=False)


class OrderSpec(cs.ColSpec):
    id = cs.Int64(primary_key=True)
    line = cs.Int64(primary_key=True)
    amount = cs.Float64(min=0)


class ShopSpec(cs.Collection):
    people: PersonSpec
    orders: OrderSpec

    @cs.filter_polars()
    def ordered_something(self) -> pl.LazyFrame:
        """Every person has at least one order."""
        return self.people.join(self.orders, on="id", how="semi")


@dataclass
class ShopData(cs.Collection):
    """A collection as a dataclass (pipedag's realistic pipeline): built while the flow is
    declared, from task outputs, and passed to a task as one argument."""

    people: PersonSpec
    orders: OrderSpec
    extra: OrderSpec | None = None


@materialize(version="1")
def people(bad: bool) -> pl.DataFrame:
    return pl.DataFrame(people_rows(bad))


@materialize(input_type=pl.DataFrame)
def read_spec(people: PersonSpec) -> pl.DataFrame:
    return pl.DataFrame(
        {"row_count": [people.height], "age_type": [str(people.schema["age"])]},
    )


@materialize
def read_spec_default(people: PersonSpec) -> pl.DataFrame:
    """No input_type: a column specification reads a polars DataFrame."""
    assert isinstance(people, pl.DataFrame)
    return pl.DataFrame({"row_count": [people.height], "age_type": [str(people.schema["age"])]})


@materialize(version="1")
def make_people(bad: bool) -> PersonSpec:
    return pl.DataFrame(people_rows(bad))


@materialize(version="1")
def shop_tables(bad: bool) -> dict[str, pl.DataFrame]:
    persons, orders = shop_rows(bad)
    return {"people": pl.DataFrame(persons), "orders": pl.DataFrame(orders)}


@materialize
def read_shop(shop: ShopSpec) -> pl.DataFrame:
    assert isinstance(shop, ShopSpec)
    people, orders = shop.people.lazy().collect(), shop.orders.lazy().collect()
    return pl.DataFrame(
        {
            "people": [people.height],
            "orders": [orders.height],
            "age_type": [str(people.schema["age"])],
        }
    )


@materialize(version="1")
def make_shop(bad: bool) -> ShopSpec:
    persons, orders = shop_rows(bad)
    return {"people": pl.DataFrame(persons), "orders": pl.DataFrame(orders)}


@materialize(version="1")
def orders(bad: bool) -> pl.DataFrame:
    return pl.DataFrame(shop_rows(bad)[1])


@materialize
def read_shop_data(shop: ShopData) -> pl.DataFrame:
    assert isinstance(shop, ShopData)
    assert shop.extra is None
    people, orders = shop.people.lazy().collect(), shop.orders.lazy().collect()
    return pl.DataFrame({"people": [people.height], "orders": [orders.height]})
