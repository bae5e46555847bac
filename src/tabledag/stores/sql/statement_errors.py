"""A statement the database refused, as a `StoreError` that pipedag code can still catch.

pipedag runs SQL through SQLAlchemy, so its users catch `sqlalchemy.exc.ProgrammingError`
(say, around `Table(sa.text(...)).materialize()` in a task). tabledag runs SQL on the
driver; where SQLAlchemy is installed, the `StoreError` it raises for a driver error of a
PEP 249 category is also SQLAlchemy's exception of that category. Without SQLAlchemy it is a
plain `StoreError`. The driver's error stays its `__cause__` (and `orig`, as SQLAlchemy has it).
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

from ...errors import StoreError

CATEGORIES = (
    "IntegrityError",
    "ProgrammingError",
    "DataError",
    "OperationalError",
    "NotSupportedError",
    "InternalError",
    "DatabaseError",
)
"""PEP 249's error classes, most specific first (SQLAlchemy's `sqlalchemy.exc` mirrors them)."""


def statement_error(message: str, cause: BaseException, statement: str | None = None) -> StoreError:
    """A `StoreError` with `message` for the driver error `cause`."""
    category = _category(cause)
    cls = _with_sqlalchemy(category) if category is not None else None
    if cls is None:
        return StoreError(message)
    return cls(message, statement, cause)  # type: ignore[no-any-return]


def _category(error: BaseException) -> str | None:
    names = {klass.__name__ for klass in type(error).__mro__}
    return next((c for c in CATEGORIES if c in names), None)


def _rebuild(category: str, message: str, statement: str | None) -> StoreError:
    """Unpickling (a worker's error reaching the driver): the driver's error stays behind."""
    cls = _with_sqlalchemy(category)
    return cls(message, statement, None) if cls is not None else StoreError(message)


@functools.cache
def _with_sqlalchemy(category: str) -> Any:
    if importlib.util.find_spec("sqlalchemy") is None:
        return None
    import sqlalchemy.exc

    base = getattr(sqlalchemy.exc, category)

    def __init__(self: Any, message: str, statement: str | None, orig: Any) -> None:
        Exception.__init__(self, message)
        self.statement, self.params, self.orig = statement, None, orig
        self.hide_parameters, self.connection_invalidated = True, False
        self.detail, self.code, self.ismulti = [], None, None
        self.category = category

    def __str__(self: Any) -> str:
        return str(self.args[0])

    def __reduce__(self: Any) -> Any:
        return _rebuild, (category, self.args[0], self.statement)

    namespace = {
        "__init__": __init__,
        "__str__": __str__,
        "__reduce__": __reduce__,
        "__module__": "tabledag.errors",
        "__doc__": f"A StoreError that is also sqlalchemy.exc.{category}.",
    }
    return type(f"Store{category}", (StoreError, base), namespace)
