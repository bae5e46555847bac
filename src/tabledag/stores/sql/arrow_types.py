"""Arrow types as sqlglot types: the column types of a table created for Arrow data.

The types are sqlglot's generic ones, so each dialect's renderer spells them (`TEXT` is
`VARCHAR(MAX)` on SQL Server, `BOOLEAN` is `BIT`). A dialect whose loader has its own rules
(Postgres: `loaders/postgres_types.py`) overrides `Dialect.load_arrow` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa

_SIMPLE = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "uint8": "SMALLINT",
    "uint16": "INT",
    "uint32": "BIGINT",
    "uint64": "DECIMAL(20, 0)",
    "halffloat": "FLOAT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "TEXT",
    "large_string": "TEXT",
    "string_view": "TEXT",
    "binary": "VARBINARY",
    "large_binary": "VARBINARY",
    "binary_view": "VARBINARY",
    "date32": "DATE",
    "date64": "DATE",
    "null": "TEXT",
}


def sql_type(arrow_type: pa.DataType) -> exp.DataType:
    """The sqlglot type holding values of `arrow_type`."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type)
    if pa.types.is_timestamp(t):
        return exp.DataType.build("TIMESTAMPTZ" if t.tz else "TIMESTAMP")
    if pa.types.is_time(t):
        return exp.DataType.build("TIME")
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return exp.DataType.build("INTERVAL")
    if pa.types.is_decimal(t):
        return exp.DataType.build(f"DECIMAL({t.precision}, {t.scale})")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return exp.DataType(
            this=exp.DataType.Type.ARRAY, expressions=[sql_type(t.value_type)], nested=True
        )
    if pa.types.is_struct(t):
        fields = [
            exp.ColumnDef(this=exp.to_identifier(f.name, quoted=True), kind=sql_type(f.type))
            for f in t
        ]
        return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=fields, nested=True)
    name = _SIMPLE.get(str(t))
    if name is None:
        raise TypeError(f"no SQL type for Arrow type {t}")
    return exp.DataType.build(name)
