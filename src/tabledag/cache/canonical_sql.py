"""Canonical SQL: a lazy output's query as a person reads it, and as `lazy_query_str` gives it.

A lazy task's query reads its inputs from immutable physical tables (`stage__data.t__<key>`).
Shown to a person, it should name the stage views instead (`stage.t`) and run as printed, so the
tree is rewritten: table references to logical names, and column qualifiers that name a
physical table (SQLAlchemy writes `"t__<key>".col`) to the logical table name. It is rendered
pretty and without comments (sqlglot keeps replaced names as comments otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp


def canonical_sql(
    query: exp.Expr,
    dialect: Any,
    logical_names: Mapping[tuple[str, str], tuple[str, str]],
) -> str:
    """Render `query` with each physical `(schema, table)` replaced by its logical name."""
    tree = logical_tree(query, logical_names)
    return tree.sql(dialect=dialect, pretty=True, comments=False)


def logical_tree(
    query: exp.Expr, logical_names: Mapping[tuple[str, str], tuple[str, str]]
) -> exp.Expr:
    """A copy of `query` whose physical `(schema, table)` references name their stage views
    (what any dialect can render, e.g. `tabledag sql --dialect`)."""
    by_table = {physical[1]: (physical, logical) for physical, logical in logical_names.items()}

    def rename(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name:
            logical = logical_names.get((node.db, node.name))
            if logical is not None:
                node = node.copy()
                node.set("db", exp.to_identifier(logical[0], quoted=True))
                node.set("this", exp.to_identifier(logical[1], quoted=True))
                node.set("catalog", None)
        elif isinstance(node, exp.Column) and node.table in by_table:
            (schema, _), logical = by_table[node.table]
            if not node.db or node.db == schema:
                node = node.copy()
                node.set("table", exp.to_identifier(logical[1], quoted=True))
                if node.db:
                    node.set("db", exp.to_identifier(logical[0], quoted=True))
                node.set("catalog", None)
        return node

    return query.transform(rename) if logical_names else query
