"""The table-hook contract.

A hook converts one kind of table object. Writing, it turns the object into a `Lazy` query,
`Eager` Arrow data or `Raw` SQL and returns it; the store decides whether it is kept already and
how to write it. Reading, it asks the session for Arrow data, an ibis table or names and types,
and converts. Hooks never touch a connection or name a dialect; they receive a `StoreSession`
(the `store` argument, as in the seed's signatures) and use only what it declares.

Hook modules import their library inside methods, and `type_is` checks types by module name,
so registering the built-in hooks imports neither pandas, polars nor ibis.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from ..stores.base import Capability, Lazy, Raw

if TYPE_CHECKING:
    from sqlglot import exp

    from ..outputs import Table, TableRef
    from ..stores.base import Output, StoreSession

StoreT = TypeVar("StoreT")


class CanMatResult(enum.Enum):
    NO = 0
    YES = 1
    YES_BUT_DONT_CACHE = 2
    """Yes, but decide again for the next object of this type."""

    @staticmethod
    def new(value: bool) -> CanMatResult:
        return CanMatResult.YES if value else CanMatResult.NO


class CanRetResult(enum.Enum):
    NO = 0
    YES = 1

    @staticmethod
    def new(value: bool) -> CanRetResult:
        return CanRetResult.YES if value else CanRetResult.NO


class TableHook(Generic[StoreT]):
    """Base class of table hooks; every method is a classmethod, hooks hold no state."""

    materializes: ClassVar[tuple[str, ...]] = ()
    """Names of the types it writes, for error messages."""
    retrieves: ClassVar[tuple[str, ...]] = ()
    """Names of the types it reads as, for error messages."""
    requires: ClassVar[frozenset[Capability]] = frozenset()
    """What a store must offer for this hook to apply (e.g. `Capability.IBIS`)."""
    needs_connection: ClassVar[bool] = False
    """Whether retrieved objects keep using the session's connection (e.g. ibis tables)."""

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.NO

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.NO

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Output:
        """`table.obj` as a `Lazy`, `Eager` or `Raw` value (`stage_name`: for messages)."""
        raise NotImplementedError(f"{cls.__name__} cannot materialize tables")

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        raise NotImplementedError(f"{cls.__name__} cannot retrieve tables")

    @classmethod
    def auto_name(cls, obj: Any) -> str | None:
        """The table name an object returned bare carries (a pydiverse.transform alias);
        None: the task's name."""
        return None

    @classmethod
    def carried_name(cls, obj: Any) -> str | None:
        """The name an object returned bare carries even unaliased (a pydiverse.transform
        table: its input's), used where the config asks for it (`carried_table_names`)."""
        return cls.auto_name(obj)

    @classmethod
    def plan_fingerprint(cls, obj: Any) -> str | None:
        """A stable text of the plan a lazy object holds (no data), for `AUTO_VERSION`; None
        where the type has no plan (a collected frame)."""
        return None

    @classmethod
    def lazy_query_str(cls, store: StoreSession, obj: Any) -> str:
        """Canonical SQL of a lazy object; `TypeError` where the object is not lazy."""
        from ..outputs import Table

        output = cls.materialize(store, Table(obj, name="lazy_query_str"), "")
        if isinstance(output, Lazy):
            return store.canonical_sql(output.build())
        if isinstance(output, Raw):
            return output.sql.strip()
        raise TypeError(f"{cls.__name__} produces no query for {type(obj).__name__}")


def type_is(type_: type, module: str, qualname: str) -> bool:
    """`issubclass(type_, module.qualname)` without importing `module`.

    If the module was never imported, no object of its types can exist yet.
    """
    mod = sys.modules.get(module)
    if mod is None or not isinstance(type_, type):
        return False
    target: Any = mod
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            return False
    return isinstance(target, type) and issubclass(type_, target)


def installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it (for `register_table(...)` of a
    hook whose library is optional)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def text_fingerprint(kind: str, store: StoreSession, text: str) -> str:
    """SQL text is its own fingerprint: equal text in one dialect parses to the same tree, so a
    kept table is found without parsing and rendering it again."""
    dialect = getattr(store.sqlglot_dialect, "__name__", str(store.sqlglot_dialect))
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"{kind}-{dialect}-{digest}"


def parse_compiled(sql: str, read: str) -> exp.Query:
    """A SELECT that SQLAlchemy (or a library over it, pydiverse.transform) compiled, as a
    tree. `FLOAT(p)` is SQL's spelling of a float of p bits, which sqlglot reads as a
    DOUBLE with a parameter that most databases refuse (DuckDB: "DOUBLE does not take
    type parameters"): it becomes REAL (p <= 24) or DOUBLE, as the standard says."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read=read)
    floats = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
    for data_type in tree.find_all(exp.DataType):
        params = data_type.expressions
        if data_type.this in floats and len(params) == 1 and params[0].this.is_int:
            bits = int(params[0].this.name)
            data_type.set("this", floats[1] if bits <= 24 else floats[0])
            data_type.set("expressions", [])
    return cast("exp.Query", tree)
