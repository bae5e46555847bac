"""Arrow types as sqlglot types: the column types of a table created for Arrow data.

The types are sqlglot's generic ones, so each dialect's renderer spells them (`TEXT` is
`VARCHAR(MAX)` on SQL Server, `BOOLEAN` is `BIT`). A dialect whose loader has its own rules
(Postgres: `loaders/postgres_types.py`) overrides `Dialect.load_arrow` instead.

`int8` is a `SMALLINT`, not a `TINYINT`: SQL Server's `TINYINT` is unsigned (0 to 255).
`unsupported_columns` names what a database without arrays or intervals cannot hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa

_SIMPLE = {
    "int8": "SMALLINT",  # TINYINT is unsigned on SQL Server
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
    "null": "TEXT",
}


def sql_type(arrow_type: pa.DataType) -> exp.DataType:
    """The sqlglot type holding values of `arrow_type`."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type)
    if pa.types.is_date(t):  # str() is "date32[day]": not a key of _SIMPLE
        return exp.DataType.build("DATE")
    if pa.types.is_fixed_size_binary(t):
        return exp.DataType.build("VARBINARY")
    if pa.types.is_timestamp(t):
        return exp.DataType.build("TIMESTAMPTZ" if t.tz else "TIMESTAMP")
    if pa.types.is_time(t):
        return exp.DataType.build("TIME")
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return exp.DataType.build("INTERVAL")
    if pa.types.is_decimal(t):
        return exp.DataType.build(f"DECIMAL({t.precision}, {t.scale})")
    if _is_list(t):
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


def unsupported_columns(
    schema: pa.Schema, *, arrays: bool, max_decimal_digits: int = 38
) -> list[tuple[str, str]]:
    """(column, Arrow type) of the columns a database cannot hold that has no INTERVAL column
    type, decimals of at most `max_decimal_digits` digits, and (unless `arrays`) no arrays or
    structs."""
    import pyarrow as pa

    def fits(t: pa.DataType) -> bool:
        if pa.types.is_dictionary(t):
            return fits(t.value_type)
        if _is_list(t) or pa.types.is_struct(t):
            return arrays and all(fits(t.field(i).type) for i in range(t.num_fields))
        if pa.types.is_decimal(t):
            return bool(t.precision <= max_decimal_digits)
        if pa.types.is_duration(t) or pa.types.is_interval(t):
            return False
        try:
            sql_type(t)  # maps and unions have none
        except TypeError:
            return False
        return True

    return [(f.name, str(f.type)) for f in schema if not fits(f.type)]


def _is_list(
    t: pa.DataType,
) -> TypeGuard[pa.ListType[Any] | pa.LargeListType[Any] | pa.FixedSizeListType[Any, Any]]:
    import pyarrow as pa

    return bool(pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t))
