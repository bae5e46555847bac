"""What a SQL dialect supplies to `SQLTableStore`: documented flags, pure statement builders and
a driver connection.

Builders return sqlglot trees, which the session renders once (`Dialect.render`), logs and runs
through its one `execute()`. That keeps golden-SQL tests free of any server. Driver work
(connecting, bulk load and read) sits behind `Connection`, one small class per driver. A
dialect module is a declaration block and a few overrides; it knows nothing of tasks.
"""

from __future__ import annotations

import functools
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import sqlglot
from sqlglot import exp

from ...errors import ConfigError, StoreConnectionError

if TYPE_CHECKING:
    import pyarrow as pa

    from ...locks import Locks


class Verbatim(exp.Expression, exp.Query):
    """SQL text spliced into a tree unchanged: a query rendered once already, or `RawSql`."""

    arg_types = {"this": True}


def with_verbatim(base: type[sqlglot.Dialect]) -> type[sqlglot.Dialect]:
    """`base` extended to render `Verbatim` nodes; sqlglot itself stays untouched."""
    copied = dict(base.generator_class.TRANSFORMS)
    generator = type(
        "Generator",
        (base.generator_class,),
        {"TRANSFORMS": {**copied, Verbatim: lambda self, e: e.this}, "_copied": copied},
    )
    return type(f"Tabledag{base.__name__}", (base,), {"Generator": generator})


_IBIS_DIALECTS = "ibis.backends.sql.dialects"
_synced: set[type[sqlglot.Dialect]] = set()


def sync_with_ibis(dialect: type[sqlglot.Dialect]) -> None:
    """Take over what ibis added to sqlglot's generators after `with_verbatim` copied them.

    Importing ibis's SQL backends extends sqlglot's own generators in place (Postgres renders
    `DateFromParts` as `MAKE_DATE` only then); a copy made before that import would render
    ibis's trees with sqlglot's defaults (`DATE_FROM_PARTS`, unknown to Postgres). Runs once per
    dialect, on the first render after ibis's dialects are imported.
    """
    import sys

    if dialect in _synced or _IBIS_DIALECTS not in sys.modules:
        return
    _synced.add(dialect)
    generator = dialect.generator_class
    copied = generator.__dict__.get("_copied")
    if copied is None:
        return
    current = generator.__mro__[1].TRANSFORMS  # type: ignore[attr-defined]
    for key, value in current.items():
        if generator.TRANSFORMS.get(key) is copied.get(key):  # not overridden here
            generator.TRANSFORMS[key] = value
    import sqlglot.generator

    cache = getattr(sqlglot.generator, "_DISPATCH_CACHE", None)  # sqlglot >= 30: per class
    if cache is not None:
        cache.pop(generator, None)  # rebuilt from TRANSFORMS on the next generator


class Connection(ABC):
    """One database session. Subclasses wrap a driver; SQL arrives rendered."""

    @abstractmethod
    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement (or one script, where the dialect declares batches); return the
        rows of the last one (empty for DDL)."""

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    @abstractmethod
    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        """Run `statements`, which create `target` (and may select from `source`, under which
        `data` is visible to them), then bulk-load `data` into it unless they did; call
        `checkpoint` after each step with what it sent."""

    @abstractmethod
    def read_arrow(self, sql: str) -> pa.Table:
        """Run a query and return its result as Arrow, through the driver's bulk path."""

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class CommitPlan:
    """How a commit's view changes are made atomic, as three lists of statements.

    `prepare` runs first (outside a transaction), `in_transaction` beside the metadata changes
    in one transaction, `finish` afterwards. A crash after any statement leaves either the old
    or the new generation readable; metadata commits before views move where DDL is not
    transactional, so the tables both generations show stay kept.
    """

    prepare: list[exp.Expr] = field(default_factory=list)
    in_transaction: list[exp.Expr] = field(default_factory=list)
    finish: list[exp.Expr] = field(default_factory=list)


class Dialect:
    """Base of the per-database dialects; subclasses are mostly declarations."""

    name: ClassVar[str]
    """The URL scheme family, e.g. "duckdb", "postgres"."""

    sqlglot: ClassVar[type[sqlglot.Dialect]]
    """The sqlglot dialect SQL is rendered and parsed in (a class, so that a database sqlglot
    lacks can supply its own)."""

    sqlalchemy: ClassVar[tuple[str, str]] = ("postgresql", "postgres")
    """SQLAlchemy dialect to compile SQLAlchemy queries with, and the sqlglot dialect that reads
    what it prints."""

    max_identifier_bytes: ClassVar[int] = 128
    """Longest identifier the database keeps intact."""

    supports_batches: ClassVar[bool] = False
    """Several statements may be sent in one call (one round trip)."""

    transactional_ddl: ClassVar[bool] = True
    """CREATE/DROP VIEW can be rolled back, so a commit is one transaction."""

    one_process: ClassVar[str | None] = None
    """Why only one process may write the database at a time, for databases with that rule
    (engines with workers in other processes refuse them); None for servers."""

    def run_records_directory(self) -> str | None:
        """A local directory to keep run records in as files, for databases where one more
        write per run costs far more than the file (None: the `runs` metadata table)."""
        return None

    args: dict[str, Any] = {}
    """On the class: the dialect arguments a store accepts (name -> type or tuple of allowed
    values); on an instance, which `__init__` gives its own: the validated arguments given.
    (Not a `ClassVar`, since instances assign it.)"""

    extra: ClassVar[str | None] = None
    """The `pip install 'tabledag[...]'` extra that brings this dialect's drivers."""

    drivers: ClassVar[tuple[str, ...]] = ()
    """Python modules at least one of which must be importable to connect."""

    materialization_keys: ClassVar[dict[str, Any]] = {}
    """The options this dialect understands in a `materialization_details` option set:
    name -> type or tuple of allowed values (e.g. Postgres `unlogged: bool`)."""

    alter_type_using: ClassVar[bool] = True
    """`ALTER COLUMN ... TYPE` takes `USING <cast>` (converts values no implicit cast would)."""

    not_null_needs_type: ClassVar[bool] = False
    """Making a column NOT NULL restates its type (T-SQL `ALTER COLUMN c INT NOT NULL`)."""

    def __init__(self, url: str, **args: Any) -> None:
        self.url = url
        self.args = self._validated(args)

    @classmethod
    def _validated(cls, args: dict[str, Any]) -> dict[str, Any]:
        for key, value in args.items():
            if key not in cls.args:
                import difflib  # on error paths only: it costs the import of tabledag ~1 ms

                close = difflib.get_close_matches(key, cls.args, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                known = ", ".join(sorted(cls.args)) or "none"
                raise ConfigError(
                    f"unknown argument {key!r} for a {cls.name} table store{hint} "
                    f"(it takes: {known})"
                )
            expected = cls.args[key]
            if isinstance(expected, tuple) and value not in expected:
                raise ConfigError(f"{cls.name} argument {key}={value!r}: use one of {expected}")
            if isinstance(expected, type) and not _fits(value, expected):
                raise ConfigError(
                    f"{cls.name} argument {key}={value!r} must be a {expected.__name__}"
                )
        return dict(args)

    def check_details(self, name: str, options: dict[str, Any]) -> None:
        """Raise a ConfigError for an option of the set `name` this dialect does not know."""
        for key, value in options.items():
            if key not in self.materialization_keys:
                import difflib  # on error paths only: it costs the import of tabledag ~1 ms

                close = difflib.get_close_matches(str(key), self.materialization_keys, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                known = ", ".join(sorted(self.materialization_keys)) or "none"
                raise ConfigError(
                    f"materialization_details {name!r}: unknown option {key!r} for a "
                    f"{self.name} table store{hint} (it understands: {known})"
                )
            expected = self.materialization_keys[key]
            if isinstance(expected, tuple) and value not in expected:
                raise ConfigError(
                    f"materialization_details {name!r}: {key}={value!r}: use one of {expected}"
                )
            if isinstance(expected, type) and not _fits(value, expected):
                raise ConfigError(
                    f"materialization_details {name!r}: {key}={value!r} must be a "
                    f"{expected.__name__}"
                )

    # -- connections ----------------------------------------------------------------------------

    def connect(self) -> Connection:
        raise NotImplementedError(f"connecting to {self.name} is not implemented yet")

    def locks(self, scope: tuple[str, ...], timeout: float) -> Locks:
        """The locks guarding one instance, named by `scope` (instance id first). Default:
        none (one process at a time is the caller's business)."""
        from ...locks import NoLocks

        return NoLocks()

    def ibis_backend(self, conn: Connection) -> Any:
        raise NotImplementedError(f"ibis is not wired up for {self.name}")

    def close(self) -> None:
        """Release what the dialect holds across sessions (e.g. a shared database)."""

    def require_driver(self) -> None:
        """Fail with the extra to install where no driver module can be imported.

        Imports rather than `find_spec`: a driver that is found but cannot load (psycopg
        without libpq, a blocked import) is as missing as one not installed."""
        problems = []
        for module in self.drivers:
            try:
                importlib.import_module(module)
                return
            except ImportError as error:
                problems.append(f"{module}: {error}")
        if problems:
            extra = f"pip install 'tabledag[{self.extra}]'" if self.extra else "install a driver"
            raise StoreConnectionError(
                f"no {self.name} driver can be imported ({'; '.join(problems)}); run {extra}"
            )

    # -- statements -----------------------------------------------------------------------------

    def create_schema(self, schema: str) -> list[exp.Expr]:
        return [exp.Create(this=exp.Table(db=ident(schema)), kind="SCHEMA", exists=True)]

    def create_table(self, target: exp.Table, columns: Sequence[exp.ColumnDef]) -> list[exp.Expr]:
        schema = exp.Schema(this=target, expressions=list(columns))
        return [exp.Create(this=schema, kind="TABLE")]

    def add_column(self, target: exp.Table, name: str, kind: exp.DataType) -> list[exp.Expr]:
        return [
            exp.Alter(
                this=target, kind="TABLE", actions=[exp.ColumnDef(this=ident(name), kind=kind)]
            )
        ]

    def create_table_as(self, target: exp.Table, query: exp.Query) -> list[exp.Expr]:
        return [exp.Create(this=target, kind="TABLE", expression=query)]

    def load_arrow(self, target: exp.Table, schema: pa.Schema, source: str) -> list[exp.Expr]:
        """Statements creating `target` for Arrow data of `schema` (readable as `source`
        while they run, where the connection can); the connection then loads the rows."""
        from .arrow_types import sql_type

        return self.create_table(target, [column_def(f.name, sql_type(f.type)) for f in schema])

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """(column, type) of every column this database cannot hold faithfully."""
        return []

    def drop_table(self, target: exp.Table) -> list[exp.Expr]:
        return [exp.Drop(tables=[target], kind="TABLE", exists=True)]

    def drop_view(self, target: exp.Table) -> list[exp.Expr]:
        return [exp.Drop(tables=[target], kind="VIEW", exists=True)]

    def drop_schema(self, schema: str) -> list[exp.Expr]:
        return [
            exp.Drop(
                tables=[exp.Table(this=ident(schema))], kind="SCHEMA", exists=True, cascade=True
            )
        ]

    def point_view(self, view: exp.Table, target: exp.Table) -> list[exp.Expr]:
        """Statements making `view` show `target` (run inside the commit transaction)."""
        select = exp.select("*").from_(target)
        return [exp.Create(this=view, kind="VIEW", expression=select, replace=True)]

    def commit_views(
        self,
        schema: str,
        changed: dict[str, exp.Table],
        removed: list[str],
        shown: dict[str, exp.Table],
    ) -> CommitPlan:
        """Re-point the views of `schema`: `changed` view -> target, `removed` views, and
        `shown`, every view the new generation has (for techniques that rebuild them all)."""
        statements: list[exp.Expr] = []
        for name in removed:
            statements += self.drop_view(table(schema, name))
        for name, target in changed.items():
            statements += self.point_view(table(schema, name), target)
        return CommitPlan(in_transaction=statements)

    # -- per-table options (`table_options.py`) -------------------------------------------------

    def table_properties(self, details: dict[str, Any]) -> list[exp.Expr]:
        """Properties a `CREATE TABLE` gets for a `materialization_details` option set."""
        return []

    def after_create(
        self, target: exp.Table, details: dict[str, Any], index_name: str
    ) -> list[exp.Expr]:
        """Statements an option set runs once the table holds its rows (before its keys)."""
        return []

    def empty_table_as(self, target: exp.Table, sql: str) -> list[exp.Expr]:
        """Create `target` with the columns of the query `sql` and no rows."""
        body = enclosable(sql)
        q = self.render(ident("q"))
        return self.create_table_as(
            target, Verbatim(this=f"SELECT * FROM ({body}) AS {q} WHERE 1 = 0")
        )

    def insert_from(self, target: exp.Table, sql: str) -> list[exp.Expr]:
        """Append the rows of the query `sql` to `target` (whose columns it created)."""
        return [exp.Insert(this=target, expression=Verbatim(this=sql))]

    def alter_column_type(
        self, target: exp.Table, column: str, kind: exp.DataType
    ) -> list[exp.Expr]:
        using = exp.cast(exp.column(column, quoted=True), kind) if self.alter_type_using else None
        action = exp.AlterColumn(this=ident(column), dtype=kind, using=using)
        return [exp.Alter(this=target, kind="TABLE", actions=[action])]

    def set_not_null(
        self, target: exp.Table, column: str, kind: exp.DataType | None
    ) -> list[exp.Expr]:
        """`kind`, the column's current type, is given where `not_null_needs_type`."""
        action = exp.AlterColumn(this=ident(column), allow_null=False)
        if self.not_null_needs_type:
            assert kind is not None
            action.set("dtype", kind)
        return [exp.Alter(this=target, kind="TABLE", actions=[action])]

    def add_primary_key(self, target: exp.Table, columns: list[str]) -> list[exp.Expr]:
        key = exp.PrimaryKey(expressions=[ident(c) for c in columns])
        return [
            exp.Alter(this=target, kind="TABLE", actions=[exp.AddConstraint(expressions=[key])])
        ]

    def create_index(
        self, target: exp.Table, index_name: str, columns: list[str]
    ) -> list[exp.Expr]:
        params = exp.IndexParameters(columns=[exp.column(c, quoted=True) for c in columns])
        index = exp.Index(this=ident(index_name), table=target, params=params)
        return [exp.Create(this=index, kind="INDEX")]

    # -- introspection --------------------------------------------------------------------------

    def list_tables(self, schema: str) -> exp.Query:
        """One row `(table_name,)` per base table in `schema`."""
        return (
            exp.select(exp.column("table_name"))
            .from_(exp.table_("tables", db="information_schema"))
            .where(exp.column("table_schema").eq(exp.Literal.string(schema)))
            .where(exp.column("table_type").eq(exp.Literal.string("BASE TABLE")))
        )

    def list_columns(self, schema: str, tables: Sequence[str]) -> exp.Query:
        """Rows `(table_name, column_name, SQL type)` of `tables` in `schema`, in column order."""
        return (
            exp.select(exp.column("table_name"), exp.column("column_name"), exp.column("data_type"))
            .from_(exp.table_("columns", db="information_schema"))
            .where(exp.column("table_schema").eq(exp.Literal.string(schema)))
            .where(exp.column("table_name").isin(*(exp.Literal.string(t) for t in tables)))
            .order_by(exp.column("table_name"), exp.column("ordinal_position"))
        )

    def describe(self, target: exp.Table) -> exp.Query:
        """Rows `(column_name, SQL type)` of one table, in column order (a cheaper question
        than `list_columns` where the database has a direct one)."""
        query = self.list_columns(target.db, [target.name])
        query.set("expressions", query.expressions[1:])
        return query

    def sqlalchemy_engine(self, url: str) -> Any | None:
        """A SQLAlchemy engine on this database for user code (no pool: each connection
        closes when its block ends); None where SQLAlchemy has no dialect for `url`."""
        import sqlalchemy as sa

        try:
            return sa.create_engine(url, poolclass=sa.pool.NullPool)
        except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError):
            return None

    def table_size(self, target: exp.Table) -> exp.Query | None:
        """A query for the bytes a table takes, where the database has a cheap one."""
        return None

    def clock(self) -> exp.Query | None:
        """A query for the server's current time, where `older_snapshots` needs it."""
        return None

    def older_snapshots(self, since: Any) -> exp.Query | None:
        """A query listing other sessions whose snapshot predates `since` (and so would see a
        view moved to a newer table as empty); None where snapshots cannot outlive a commit."""
        return None

    def is_lock_conflict(self, error: BaseException) -> bool:
        """Whether a failed commit lost to a concurrent reader and may simply be retried."""
        return False

    # -- rendering ------------------------------------------------------------------------------

    def render(self, expression: exp.Expr) -> str:
        if self.sqlglot not in _synced:
            sync_with_ibis(self.sqlglot)
        return str(self._generating.generate(expression, copy=True))

    def render_owned(self, expression: exp.Expr) -> str:
        """`render` for a tree no one else holds (just parsed): without sqlglot's defensive
        copy, which costs about a third of rendering a query. A new generator each time, so
        that names sqlglot generates (`_t0`) do not depend on what was rendered before."""
        if self.sqlglot not in _synced:
            sync_with_ibis(self.sqlglot)
        return str(self._generating.generate(expression, copy=False))

    @functools.cached_property
    def _generating(self) -> Any:
        """One sqlglot dialect object: `expression.sql(dialect=cls)` builds a new one per call,
        as costly as rendering a small statement."""
        return self.sqlglot()

    def renderer(self) -> Callable[[exp.Expr], str]:
        """A render function for one session: one sqlglot generator, reused (a generator per
        statement is most of the cost of rendering a small one), that renders trees built for
        it without sqlglot's defensive copy. Not for trees shared with others (a compiled
        ibis query): use `render` for those."""
        sync_with_ibis(self.sqlglot)
        generator = self.sqlglot().generator()
        return lambda expression: str(generator.generate(expression, copy=False))

    def parse_type(self, text: str) -> exp.DataType:
        return exp.DataType.build(text, dialect=self.sqlglot, udt=True)


def group_by_expressions(select: exp.Expr) -> exp.Expr:
    """`GROUP BY 1` -> `GROUP BY <the first select expression>`, in place: for databases that
    group by expressions only (Db2, where a number is a constant; SQL Server, which refuses
    one). DuckDB and Postgres trees use positions (ibis writes them)."""
    if not isinstance(select, exp.Select) or select.args.get("group") is None:
        return select
    selects = select.selects
    for node in select.args["group"].expressions:
        if isinstance(node, exp.Literal) and node.is_int and 0 < int(node.name) <= len(selects):
            node.replace(selects[int(node.name) - 1].unalias().copy())
    return select


def groups_by_position(select: exp.Select) -> bool:
    group = select.args.get("group")
    return group is not None and any(
        isinstance(n, exp.Literal) and n.is_int for n in group.expressions
    )


def with_properties(statements: list[exp.Expr], properties: list[exp.Expr]) -> list[exp.Expr]:
    """`statements` with `properties` added to each `CREATE TABLE` among them."""
    if not properties:
        return statements
    for statement in statements:
        if isinstance(statement, exp.Create) and statement.kind == "TABLE":
            existing = statement.args.get("properties")
            old = list(existing.expressions) if existing is not None else []
            copies = [p.copy() for p in properties]
            statement.set("properties", exp.Properties(expressions=[*old, *copies]))
    return statements


def enclosable(sql: str) -> str:
    """SQL text that can stand inside parentheses: no trailing `;`, a line comment closed."""
    body = sql.strip().rstrip(";").rstrip()
    return body + ("\n" if "--" in body.rsplit("\n", 1)[-1] else "")


def table(schema: str, name: str) -> exp.Table:
    """A fully quoted `schema.name` reference."""
    return exp.Table(this=ident(name), db=ident(schema))


def column_def(name: str, kind: exp.DataType, *, nullable: bool = True) -> exp.ColumnDef:
    constraints = [] if nullable else [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
    return exp.ColumnDef(this=ident(name), kind=kind, constraints=constraints)


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _fits(value: Any, expected: type) -> bool:
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, expected)
