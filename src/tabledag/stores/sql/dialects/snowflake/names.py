"""Snowflake's identifier case folding, the way SQLAlchemy's Snowflake and Oracle dialects do it.

Snowflake folds unquoted names to upper case, so a table created as `"orders"` (quoted, as
tabledag quotes every name it chooses) could not be read as `SELECT id FROM stage.orders`. The
store therefore keeps one convention everywhere:

- `fold`: a name that is lower case and valid unquoted (`orders`, `id`, `raw__data`) is
  created and referenced as its upper-case form (`"ORDERS"`), i.e. exactly what the unquoted
  name means to Snowflake; any other name (`Orders`, `my col`) stays case-sensitive as given.
- `unfold`: a name read back from Snowflake (catalogue rows, result columns) that is upper case
  and valid unquoted is reported in lower case.

Hence frame columns and table names round-trip (`id` -> `ID` -> `id`), hand-written unquoted SQL
finds them, and introspection compares folded names with folded names. As with SQLAlchemy, an
all-upper-case name given by a user (`ID`) reads back as `id`.
"""

from __future__ import annotations

import re

_LOWER = re.compile(r"[a-z_][a-z0-9_$]*")
_UPPER = re.compile(r"[A-Z_][A-Z0-9_$]*")

UPPER_PATTERN = "^[A-Z_][A-Z0-9_$]*$"
"""`_UPPER` for Snowflake's `REGEXP_LIKE` (which matches the whole string)."""


def fold(name: str) -> str:
    """The name Snowflake stores for `name` given by tabledag or a user."""
    return name.upper() if _LOWER.fullmatch(name) else name


def unfold(name: str) -> str:
    """The name tabledag reports for `name` as Snowflake stores it."""
    return name.lower() if _UPPER.fullmatch(name) else name
