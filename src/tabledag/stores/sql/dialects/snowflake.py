"""Snowflake: DDL is not transactional, so a commit builds the stage's views in a fresh schema
and swaps it in (`ALTER SCHEMA ... SWAP WITH`, atomic), after the metadata has committed.

- A bare `TIMESTAMP` means whatever the account's `TIMESTAMP_TYPE_MAPPING` says, so created
  tables spell naive timestamps `TIMESTAMPNTZ` (a synonym of `TIMESTAMP_NTZ`).
- Standard tables have no secondary indexes (only hybrid tables do): `create_index` is a no-op.

Golden SQL only so far: connecting (snowflake-connector-python, `write_pandas`/ADBC loads) comes
with the Snowflake store issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlglot.dialects
from sqlglot import exp

from .. import naming
from ..arrow_types import unsupported_columns
from ..dialect import CommitPlan, Dialect, ident, table, with_verbatim

if TYPE_CHECKING:
    import pyarrow as pa


class Snowflake(Dialect):
    name = "snowflake"
    sqlglot = with_verbatim(sqlglot.dialects.Snowflake)
    max_identifier_bytes = 255
    transactional_ddl = False
    extra = "snowflake"
    drivers = ("snowflake.connector",)
    args = {"warehouse": str, "role": str}
    materialization_keys = {"transient": bool}
    """`transient: true`: `CREATE TRANSIENT TABLE` (no fail-safe period: cheaper storage)."""
    alter_type_using = False

    def create_table(self, target: exp.Table, columns: Sequence[exp.ColumnDef]) -> list[exp.Expr]:
        return super().create_table(target, [_naive_timestamps(c) for c in columns])

    def add_column(self, target: exp.Table, name: str, kind: exp.DataType) -> list[exp.Expr]:
        return super().add_column(target, name, _ntz(kind))

    def table_properties(self, details: dict[str, Any]) -> list[exp.Expr]:
        return [exp.TransientProperty()] if details.get("transient") else []

    def create_index(
        self, target: exp.Table, index_name: str, columns: list[str]
    ) -> list[exp.Expr]:
        return []

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """Snowflake has no interval column type, and decimals of at most 38 digits."""
        return unsupported_columns(schema, arrays=True)

    def commit_views(
        self,
        schema: str,
        changed: dict[str, exp.Table],
        removed: list[str],
        shown: dict[str, exp.Table],
    ) -> CommitPlan:
        """Every view of the new generation goes into `<schema>__next`, which then swaps places
        with the stage schema; the old views leave with the swapped-out schema."""
        staging = naming.fit_identifier(f"{schema}__next", self.max_identifier_bytes)
        prepare = [*self.drop_schema(staging), *self.create_schema(staging)]
        for name, target in sorted(shown.items()):
            prepare += self.point_view(table(staging, name), target)
        new, old = self.render(ident(staging)), self.render(ident(schema))
        swap = exp.Command(this="ALTER", expression=f"SCHEMA {new} SWAP WITH {old}")
        return CommitPlan(prepare=prepare, finish=[swap, *self.drop_schema(staging)])


def _naive_timestamps(column: exp.ColumnDef) -> exp.ColumnDef:
    kind = column.args.get("kind")
    if kind is None:
        return column
    column = column.copy()
    column.set("kind", _ntz(kind))
    return column


def _ntz(kind: exp.DataType) -> exp.DataType:
    """`kind` with every bare TIMESTAMP (also inside arrays and structs) made TIMESTAMP_NTZ."""
    return kind.transform(
        lambda node: (
            exp.DataType.build("TIMESTAMPNTZ")
            if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMP
            else node
        )
    )
