"""Equality of query results across stores: column names folded to lower case, numbers as
floats compared with a relative tolerance, dates as ISO text, rows sorted."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

REL_TOL = 1e-6


def normalized(table: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, sorted rows) of a pyarrow table, every value in a comparable form."""
    columns = [c.lower() for c in table.column_names]
    rows = [tuple(_value(v) for v in row.values()) for row in table.to_pylist()]
    rows.sort(key=lambda r: tuple((v is None, _sort_key(v)) for v in r))
    return columns, rows


def _value(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float | Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return v.rstrip()
    return v


def _sort_key(v: Any) -> Any:
    # floats sort by a rounded value so that tolerance-equal rows land in the same order
    return (0, round(v, 4), "") if isinstance(v, float) else (1, 0.0, str(v))


def differences(expected: Any, actual: Any, what: str) -> list[str]:
    """Why `actual` differs from `expected` (empty if equal within the tolerance)."""
    e_cols, e_rows = normalized(expected)
    a_cols, a_rows = normalized(actual)
    if e_cols != a_cols:
        return [f"{what}: columns {a_cols} != {e_cols}"]
    if len(e_rows) != len(a_rows):
        return [f"{what}: {len(a_rows)} rows != {len(e_rows)}"]
    problems = []
    for i, (e, a) in enumerate(zip(e_rows, a_rows, strict=True)):
        for col, x, y in zip(e_cols, e, a, strict=True):
            same = (
                math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-9)
                if isinstance(x, float) and isinstance(y, float)
                else x == y
            )
            if not same:
                problems.append(f"{what}: row {i} column {col}: {y!r} != {x!r}")
                break
        if len(problems) >= 3:
            break
    return problems
