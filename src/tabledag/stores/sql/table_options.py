"""Per-table options (`Table(type_map=, nullable=, non_nullable=, materialization_details=)`),
resolved against one store: types parsed in its dialect, the named option set looked up in its
`materialization_details` config, columns checked against the table's.

How they are applied (`physical.DatabaseTables`):

- An Arrow load writes the table as the loader likes it (binary COPY cannot convert types),
  then `ALTER`s the named columns' types and NOT NULL.
- A query builds an empty table first (`CREATE TABLE ... AS SELECT * FROM (q) WHERE 1 = 0`,
  with the option set's table properties), `ALTER`s it while it is empty (no rewrite, no
  scan), then `INSERT ... SELECT`s the rows (as pipedag does). The alternative, CTAS then
  `ALTER`, would rewrite the table for a type change and scan it for NOT NULL; and creating the
  table with explicit columns would need the query's column types before it runs.

`key_part()` is what the cache key hashes: a table whose options changed is written again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError, TableOptionsError

if TYPE_CHECKING:
    from sqlglot import exp

    from ...outputs import Table
    from .dialect import Dialect

ANY = "__any__"
"""The option set every other one extends (and the one used where a table names none)."""


@dataclass(frozen=True)
class TableOptions:
    """One output's options, resolved for one store."""

    types: dict[str, exp.DataType] = field(default_factory=dict)
    nullable: tuple[str, ...] | None = None
    non_nullable: tuple[str, ...] | None = None
    details_name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rendered_types: tuple[tuple[str, str], ...] = ()

    @property
    def changes_columns(self) -> bool:
        """Whether columns are altered after the table is created."""
        return bool(self.types) or self.nullable is not None or bool(self.non_nullable)

    def key_part(self) -> tuple[Any, ...]:
        """What the cache key adds for these options; empty for a table with none, so that
        keys of tables without options stay what they were."""
        part: list[Any] = []
        if self.rendered_types:
            part.append(("type_map", self.rendered_types))
        if self.nullable is not None:
            part.append(("nullable", sorted(self.nullable)))
        if self.non_nullable is not None:
            part.append(("non_nullable", sorted(self.non_nullable)))
        if self.details:
            part.append(("details", sorted(self.details.items())))
        return tuple(part)

    def not_null(self, columns: Sequence[str]) -> list[str]:
        """The columns of a table with `columns` to make NOT NULL."""
        if self.nullable is not None:
            return [c for c in columns if c not in self.nullable]
        return [c for c in columns if c in (self.non_nullable or ())]

    def check_columns(self, columns: Sequence[str], where: str) -> None:
        """Raise naming the first option column the table lacks."""
        present = set(columns)
        for what, named in (
            ("type_map", list(self.types)),
            ("nullable", list(self.nullable or ())),
            ("non_nullable", list(self.non_nullable or ())),
        ):
            for column in named:
                if column not in present:
                    import difflib  # on error paths only: it costs the import of tabledag ~1 ms

                    close = difflib.get_close_matches(column, list(columns), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise TableOptionsError(
                        f"{where}: {what} names column {column!r}, which the table does not "
                        f"have{hint}; its columns are {', '.join(map(repr, columns))}"
                    )


NO_OPTIONS = TableOptions()


def resolve(table_: Table, dialect: Dialect, details: DetailsConfig, where: str) -> TableOptions:
    """`table_`'s options for a store of `dialect` whose option sets are `details`."""
    types = {
        c: _data_type(t, dialect, f"{where}: type_map[{c!r}]")
        for c, t in (table_.type_map or {}).items()
    }
    name, chosen = details.lookup(table_.materialization_details, where)
    rendered = tuple(sorted((c, dialect.render(t)) for c, t in types.items()))
    if not types and table_.nullable is None and table_.non_nullable is None and not chosen:
        return NO_OPTIONS
    return TableOptions(
        types,
        None if table_.nullable is None else tuple(table_.nullable),
        None if table_.non_nullable is None else tuple(table_.non_nullable),
        name,
        chosen,
        rendered,
    )


def _data_type(value: Any, dialect: Dialect, where: str) -> exp.DataType:
    """A sqlglot type from a type string, a sqlglot `DataType` or a SQLAlchemy type."""
    from sqlglot import exp
    from sqlglot.errors import ParseError

    if isinstance(value, exp.DataType):
        return value.copy()
    if isinstance(value, str):
        try:
            return dialect.parse_type(value)
        except (ParseError, ValueError) as error:
            raise TableOptionsError(
                f"{where}: {value!r} is not a SQL type sqlglot can read ({error}); write it "
                "as e.g. 'BIGINT', 'VARCHAR(20)' or 'DECIMAL(12, 2)'"
            ) from None
    module = (value if isinstance(value, type) else type(value)).__module__
    if module.split(".")[0] == "sqlalchemy":
        return _sqlalchemy_type(value, dialect, where)
    raise TableOptionsError(
        f"{where}: {value!r} is not a SQL type; give a type string such as 'BIGINT', a "
        "sqlglot DataType or a SQLAlchemy type"
    )


def _sqlalchemy_type(value: Any, dialect: Dialect, where: str) -> exp.DataType:
    """A SQLAlchemy type, compiled in the dialect's SQLAlchemy dialect and read by sqlglot."""
    from sqlalchemy.dialects import registry

    instance = value() if isinstance(value, type) else value
    sa_name, reader = dialect.sqlalchemy
    try:
        text = instance.compile(dialect=registry.load(sa_name)())
    except Exception as error:  # SQLAlchemy raises its own compile errors
        raise TableOptionsError(
            f"{where}: the SQLAlchemy type {instance!r} has no {sa_name} spelling: {error}"
        ) from None
    from sqlglot import exp

    return exp.DataType.build(text, dialect=reader, udt=True)


class DetailsConfig:
    """A store's `materialization_details`: named option sets, each extending `__any__`,
    checked against the keys its dialect understands when the store is built."""

    def __init__(
        self, dialect: Dialect, config: Mapping[str, Any] | None, default: str | None
    ) -> None:
        config = dict(config or {})
        for name, options in config.items():
            if not isinstance(name, str) or not isinstance(options, Mapping):
                raise ConfigError(
                    f"materialization_details: {name!r} must map to a mapping of options "
                    f"(e.g. {{fast: {{...}}}}), got {options!r}"
                )
            dialect.check_details(name, dict(options))
        base = dict(config.get(ANY) or {})
        self.sets = {name: {**base, **dict(options)} for name, options in config.items()}
        self.sets.setdefault(ANY, base)
        if default is not None and default not in self.sets:
            raise ConfigError(
                f"default_materialization_details {default!r} is not an option set of "
                f"materialization_details (it has: {', '.join(sorted(self.sets))})"
            )
        self.default = default

    def lookup(self, name: str | None, where: str) -> tuple[str | None, dict[str, Any]]:
        """The chosen set's name and options (`__any__` where neither table nor store names one)."""
        name = name if name is not None else self.default
        if name is None:
            return None, dict(self.sets[ANY])
        if name not in self.sets:
            import difflib  # on error paths only: it costs the import of tabledag ~1 ms

            close = difflib.get_close_matches(name, list(self.sets), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TableOptionsError(
                f"{where}: materialization_details {name!r} is not defined in the store's "
                f"config{hint}; it defines {', '.join(sorted(self.sets))}. Add it under "
                "table_store.args.materialization_details"
            )
        return name, dict(self.sets[name])
