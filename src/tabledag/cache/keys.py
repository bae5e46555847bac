"""Every cache key tabledag computes, in one place.

A key is a 32-hex-digit `stable_hash`. A physical table is named by its output key, so a key
must change whenever the data could, and only then:

- `task_key`: task name, version, resolved arguments (input tables by key), force token.
  Changes when a versioned task must run again.
- `lazy_key`: stage, table name, task key, SQL as run, table options. Changes when a lazy
  output's query or inputs change.
- `fingerprint_key`: stage, table name, task key, the lazy object's fingerprint, table options.
  Finds a `lazy_key` without compiling the object.
- `raw_key`: stage, table name, task key, normalised RawSql text, table options.
- `eager_key`: stage, table name, data digest, force token, table options. Changes when the
  data changes.

"Table options" are the primary key and indexes a task asks for, and its `type_map`, `nullable` /
`non_nullable` and the resolved `materialization_details` option set (its options, not just its
name, so that changing the store's config rebuilds the tables that use it): changing them must
build a table that has them. A table without the newer options hashes as before. The force token
is `None`, or a value unique to a run with `ignore_cache=True`.

The SQL in `lazy_key` is the query rendered against the physical input tables, exactly as it
runs: physical names are themselves functions of the input keys, so this identifies the output as
well as the logical `lazy_query_str` does, and it saves rendering every query twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NewType

from .hashing import stable_hash

Key = NewType("Key", str)


def task_key(task: str, version: str | None, args: Any, kwargs: Any, force: str | None) -> Key:
    return Key(stable_hash("task", task, version, args, kwargs, force))


def lazy_key(stage: str, name: str, task: Key, sql: str, options: Sequence[Any]) -> Key:
    return Key(stable_hash("lazy", stage, name, task, sql, options))


def fingerprint_key(
    stage: str, name: str, task: Key, fingerprint: str, options: Sequence[Any]
) -> Key:
    return Key(stable_hash("fingerprint", stage, name, task, fingerprint, options))


def raw_key(stage: str, name: str, task: Key, sql: str, options: Sequence[Any]) -> Key:
    return Key(stable_hash("raw", stage, name, task, " ".join(sql.split()), options))


def eager_key(
    stage: str, name: str, data_digest: str, force: str | None, options: Sequence[Any]
) -> Key:
    return Key(stable_hash("eager", stage, name, data_digest, force, options))
