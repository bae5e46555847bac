"""Snowflake: DDL is not transactional, so a commit builds the stage's views in a fresh schema
and swaps it in (`ALTER SCHEMA ... SWAP WITH`, atomic), after the metadata has committed.

Golden SQL only so far: connecting (snowflake-connector-python, `write_pandas`/ADBC loads) comes
with the Snowflake store issue.
"""

from __future__ import annotations

import sqlglot.dialects
from sqlglot import exp

from .. import naming
from ..dialect import CommitPlan, Dialect, ident, table, with_verbatim


class Snowflake(Dialect):
    name = "snowflake"
    sqlglot = with_verbatim(sqlglot.dialects.Snowflake)
    max_identifier_bytes = 255
    transactional_ddl = False
    extra = "snowflake"
    drivers = ("snowflake.connector",)
    args = {"warehouse": str, "role": str}

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
