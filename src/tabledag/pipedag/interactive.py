"""pipedag's interactive debugging: tasks called as plain functions, and tables written by hand.

Outside a flow a task is its function: `Table(obj).materialize()` inside it hands `obj` back.
Given a config and a schema, `Table(obj, name).materialize(cfg, Schema("s"))` and
`materialize_table(table, cfg, schema)` write the table into that schema at once, outside any
stage, its metadata and its cache (`StoreSession.create_table`), so that the next task can be
called on it, as in pipedag's `example_interactive`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import DeclarationError
from ..outputs import ExternalRef, Table, normalize_name

if TYPE_CHECKING:
    from ..config import Config


class Schema:
    """A database schema by name, with the store's prefix and suffix (pipedag's `Schema`)."""

    def __init__(self, name: str, prefix: str = "", suffix: str = "") -> None:
        self.name = name
        self.prefix = prefix
        self.suffix = suffix

    def get(self) -> str:
        return f"{self.prefix}{self.name}{self.suffix}"

    def __str__(self) -> str:
        return self.get()

    def __repr__(self) -> str:
        return f"<Schema {self.get()!r}>"


def materialize_table(
    table: Table,
    config_context: Config | None = None,
    schema: Schema | str | None = None,
    debug_suffix: str | None = None,
    flag_task_debug_tainted: bool = True,
    keep_table_name: bool = True,
    drop_if_exists: bool = True,
) -> str:
    """Write `table` into `schema` now, as its name plus `debug_suffix` (a random suffix
    where none is given); returns the name written. (`flag_task_debug_tainted`,
    `keep_table_name` and `drop_if_exists` are pipedag's: a table of that name is replaced.)"""
    name = table.name or "debug"
    suffix = debug_suffix if debug_suffix is not None else "_" + os.urandom(4).hex()
    written = normalize_name(name.removesuffix("%%") + suffix)
    write(Table(table.obj, written), _config(config_context), schema)
    return written


def write(table: Table, config: Config, schema: Schema | str | None) -> tuple[str, str]:
    """`table` written as `schema.<its name>` (an unnamed one gets a random name, as in
    pipedag, so two do not collide); returns the schema and the table name."""
    if schema is None:
        raise DeclarationError(
            f"Table({table.name!r}).materialize(config, schema): outside a running flow, "
            "give the schema to write to, e.g. Schema('debug')"
        )
    if table.name is None:
        table = table.with_name("debug_" + os.urandom(4).hex())
    schema_name = schema.get() if isinstance(schema, Schema) else str(schema)
    assert table.name is not None
    with config.store_object.session() as session:
        session.create_table(schema_name, table, session.materialize(table, schema_name))
    return schema_name, table.name


def materialize_interactively(
    table: Table, config: Config, schema: Schema | str | None, return_as_type: Any
) -> Any:
    """What `Table.materialize(config, schema, return_as_type)` gives outside a flow: the
    written table as `return_as_type` (default: a SQLAlchemy alias, `.original` the table;
    a list of types gives a tuple)."""
    import sqlalchemy as sa

    schema_name, name = write(table, config, schema)
    types = return_as_type if isinstance(return_as_type, list | tuple) else [return_as_type]
    written = ExternalRef("", name, "", schema_name)  # outside every stage: read where it is
    with config.store_object.session() as session:  # through the hooks, as task inputs are
        read = tuple(session.retrieve(written, "", t or sa.Table) for t in types)
    return read if isinstance(return_as_type, list | tuple) else read[0]


def _config(config_context: Config | None) -> Config:
    if config_context is not None:
        return config_context
    from .config import ConfigContext

    return ConfigContext.get()
