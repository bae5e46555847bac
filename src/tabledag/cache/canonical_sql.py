"""Canonical SQL: the text that identifies a lazy output.

A lazy task's query reads its inputs from immutable physical tables (`stage__data.t__<key>`). Its
identity must not depend on those physical names, nor on run order or process, so table
references are rewritten on the sqlglot tree to logical names (`stage.t`) and the tree is rendered
once, pretty-printed and without comments. The input tables' keys enter the cache key separately.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp


def canonical_sql(
    query: exp.Expression, dialect: str, logical_names: Mapping[tuple[str, str], tuple[str, str]]
) -> str:
    """Render `query` with each physical `(schema, table)` replaced by its logical name."""

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name:
            logical = logical_names.get((node.db, node.name))
            if logical is not None:
                node = node.copy()
                node.set("db", exp.to_identifier(logical[0], quoted=True))
                node.set("this", exp.to_identifier(logical[1], quoted=True))
                node.set("catalog", None)
        return node

    tree = query.transform(rename) if logical_names else query
    return tree.sql(dialect=dialect, pretty=True, comments=False)
