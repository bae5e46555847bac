"""A query output whose annotation the database checks (`Kind.database_filter`, e.g. colspec
through pydiverse.transform), written as pipedag writes it: the query as `_raw_<name>`, its
valid rows as `<name>`, and, where the config keeps them, the check's subqueries as tables of
the stage. All are outputs of the task like any other: key-named, cached by their queries,
committed with the stage. Only the counts (and, on failure, a few rows) reach Python.

The core names no validation or frame library here: the kind builds the queries, the
store's table hooks compile them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..cache.hashing import stable_hash
from ..outputs import Table
from ..stores.base import Capability, Lazy, Stored

if TYPE_CHECKING:
    from ..cache import keys
    from ..stores.base import Output, StageRun, StoreSession
    from ..validation import Plan
    from ..validation.kinds import Kind
    from .execute import TaskWork

RAW_PREFIX = "_raw_"


@dataclass
class FilteredWrite:
    """Writing one output through its kind's database filter."""

    session: StoreSession
    run: StageRun
    work: TaskWork
    write_key: keys.Key
    force: str | None
    stored: list[Stored] = field(default_factory=list)
    """The tables written besides the output itself (`_raw_<name>`, kept subqueries)."""

    def applies(self, kind: Kind, output: Any) -> bool:
        dialect = self.session.sqlalchemy_dialect[0]
        return (
            isinstance(output, Lazy)
            and Capability.SQL in self.session.capabilities
            and kind.filters_in(dialect)
        )

    def write(self, plan: Plan, kind: Kind, table: Table) -> Stored:
        """Write `table` (a query) filtered by `kind`; fail or warn for invalid rows."""
        assert table.name is not None
        session, work = self.session, self.work
        dialect = session.sqlalchemy_dialect[0]
        raw_name = RAW_PREFIX + table.name
        raw_table = Table(kind.prepare_query(table.obj), name=raw_name)
        raw = self._write(raw_table)
        query_type = kind.query_input_type()
        raw_obj = session.retrieve(raw.ref, work.stage, query_type)
        scratch = self._scratch(query_type) if work.keep_validation_subqueries else None
        check = kind.database_filter(raw_obj, scratch, dialect)
        valid = replace(table, obj=check.valid)
        output = session.materialize(valid, work.stage)
        written = session.write(self.run, valid, output, self.write_key, self.force)
        if written.hit or check.counts is None or work.validation == "off":
            return written  # a kept table was checked when it was written
        total = session.count_rows(raw.ref)
        if session.count_rows(written.ref) == total:
            return written  # every row is valid: two counts, no second run of the rules
        plan.settle_filtered(  # fewer valid rows than written: some are invalid
            kind,
            written.ref,
            self._first_row(check.counts),
            total,
            session.query_arrow(self._query(check.invalid)),
            mode=work.validation,
            where=work.describe(),
        )
        return written

    def _write(self, table: Table, output: Output | None = None) -> Stored:
        assert table.name is not None
        self.run.claim(table.name, self.work.name)
        if output is None:
            output = self.session.materialize(table, self.work.stage)
        stored = self.session.write(self.run, table, output, self.write_key, self.force)
        self.stored.append(stored)
        return stored

    def _scratch(self, query_type: Any) -> Callable[[Any, str | None], Any]:
        """The kind's hook for a subquery: written as `<prefix><hash of its SQL>` (pipedag
        names them `_t_<random>`), handed back as a table over it."""

        def write(query: Any, prefix: str | None) -> Any:
            output = self._query(query)  # compiled once: named by its SQL, then written
            name = (prefix or "_t_") + stable_hash(self.session.canonical_sql(output.build()))[:6]
            stored = self._write(Table(query, name=name), output)
            return self.session.retrieve(stored.ref, self.work.stage, query_type)

        return write

    def _query(self, query: Any) -> Lazy:
        output = self.session.materialize(Table(query, name="check"), self.work.stage)
        assert isinstance(output, Lazy)
        return output

    def _first_row(self, query: Any) -> dict[str, Any]:
        rows = self.session.query_arrow(self._query(query)).to_pylist()
        return rows[0] if rows else {}
