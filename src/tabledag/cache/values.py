"""The JSON form of task values: hashed into cache keys, stored as a task's cached outputs.

One tagged encoding serves both, so a value that goes in comes back out equal: a user's dict
that happens to have a key starting with `$` is escaped (`{"$dict": [[k, v], ...]}`), never
mistaken for a tag, and a table reference always has one shape:
`{"$table": {"stage": ..., "name": ..., "key": ...}}`.

`to_json(value, strict=True)` refuses what cannot be decoded again (outputs must round-trip);
`strict=False` (cache keys only) accepts any object with a stable `repr`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import math
import pathlib
from typing import Any

from ..outputs import BlobRef, RawSql, TableRef
from ..tree import iter_tree

_SCALARS = (str, int, bool, type(None))


def to_json(value: Any, *, strict: bool = True) -> Any:
    """`value` as plain JSON data (dicts, lists, str, numbers, bools, None)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, list):
        return [to_json(v, strict=strict) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: to_json(v, strict=strict) for k, v in value.items()}
        return {
            "$dict": [
                [to_json(k, strict=strict), to_json(v, strict=strict)] for k, v in value.items()
            ]
        }
    if isinstance(value, TableRef):
        return {"$table": {"stage": value.stage, "name": value.name, "key": value.key}}
    if isinstance(value, BlobRef):
        return {"$blob": {"stage": value.stage, "name": value.name, "key": value.key}}
    tagged = _tagged(value, strict)
    if tagged is not None:
        return tagged
    if strict:
        raise TypeError(
            f"{type(value).__module__}.{type(value).__qualname__} cannot be stored as a task "
            "value; return tables, or plain values (str, numbers, dates, lists, dicts, "
            "dataclasses, enums)"
        )
    text = repr(value)
    if " at 0x" in text:
        raise TypeError(
            f"cannot derive a stable cache key from {type(value).__qualname__} (its repr holds a "
            "memory address); pass plain values (str, int, dict, list, dataclass) as task arguments"
        )
    return {"$repr": f"{_path(type(value))}:{text}"}


def _tagged(value: Any, strict: bool) -> dict[str, Any] | None:
    """The tagged form of the non-JSON values we know how to restore, else None."""
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"$tuple": [to_json(v, strict=strict) for v in value]}
    if isinstance(value, set | frozenset):
        items = sorted((to_json(v, strict=strict) for v in value), key=_canonical)
        return {"$frozenset" if isinstance(value, frozenset) else "$set": items}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return {"$" + type(value).__name__: value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, pathlib.PurePath):
        return {"$path": str(value)}
    if isinstance(value, RawSql):
        return {"$raw_sql": {"sql": value.sql, "name": value.name}}
    if isinstance(value, enum.Enum):
        return {"$enum": _path(type(value)), "name": value.name}
    if isinstance(value, type):
        return {"$type": _path(value)}
    if dataclasses.is_dataclass(value):
        fields = {
            f.name: to_json(getattr(value, f.name), strict=strict) for f in _init_fields(value)
        }
        return {"$dataclass": _path(type(value)), "fields": fields}
    if isinstance(value, tuple):  # a namedtuple
        return {
            "$namedtuple": _path(type(value)),
            "items": [to_json(v, strict=strict) for v in value],
        }
    return None


def from_json(data: Any) -> Any:
    """The value `to_json` encoded."""
    if isinstance(data, list):
        return [from_json(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = next((k for k in data if k.startswith("$")), None)
    if tag is None:
        return {k: from_json(v) for k, v in data.items()}
    body = data[tag]
    decode = _DECODERS.get(tag)
    if decode is None:
        raise ValueError(f"unknown tag {tag!r} in a stored task value")
    return decode(body, data)


def _import(path: str) -> Any:
    module, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _dataclass(body: str, data: dict[str, Any]) -> Any:
    return _import(body)(**{k: from_json(v) for k, v in data["fields"].items()})


_DECODERS: dict[str, Any] = {
    "$float": lambda body, _: float(body),
    "$dict": lambda body, _: {from_json(k): from_json(v) for k, v in body},
    "$table": lambda body, _: TableRef(body["stage"], body["name"], body["key"]),
    "$blob": lambda body, _: BlobRef(body["stage"], body["name"], body["key"]),
    "$tuple": lambda body, _: tuple(from_json(v) for v in body),
    "$set": lambda body, _: {_hashable(from_json(v)) for v in body},
    "$frozenset": lambda body, _: frozenset(_hashable(from_json(v)) for v in body),
    "$datetime": lambda body, _: dt.datetime.fromisoformat(body),
    "$date": lambda body, _: dt.date.fromisoformat(body),
    "$time": lambda body, _: dt.time.fromisoformat(body),
    "$timedelta": lambda body, _: dt.timedelta(*body),
    "$decimal": lambda body, _: decimal.Decimal(body),
    "$bytes": lambda body, _: bytes.fromhex(body),
    "$path": lambda body, _: pathlib.Path(body),
    "$raw_sql": lambda body, _: RawSql(body["sql"], body["name"]),
    "$enum": lambda body, data: _import(body)[data["name"]],
    "$type": lambda body, _: _import(body),
    "$dataclass": _dataclass,
    "$namedtuple": lambda body, data: _import(body)(*(from_json(v) for v in data["items"])),
}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _init_fields(value: Any) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(value) if f.init]


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def dumps(value: Any, *, strict: bool = True) -> str:
    """Canonical JSON text of `value` (sorted keys, no spaces): equal values, equal text."""
    return _canonical(to_json(value, strict=strict))


def loads(text: str) -> Any:
    return from_json(json.loads(text))


def table_refs(value: Any) -> list[TableRef]:
    """Every `TableRef` inside a decoded value."""
    return list(iter_tree(value, lambda v: isinstance(v, TableRef)))
