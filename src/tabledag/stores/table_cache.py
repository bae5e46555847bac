"""The local table cache: frame inputs read from a (slow, remote) database kept as parquet files
on local disk, so that the next read of an unchanged table reads no database rows.

A stored table never changes under its key (physical tables are immutable and named by their
cache key), so a file named by the key is valid for as long as it exists: no expiry, no check
against the database. pipedag's `ParquetTableCache` options, with its defaults:

- `store_input`: write what a task reads from the database to the cache;
- `store_output`: write a frame output to the cache as it is written to the database, so a
  downstream read hits the cache at once;
- `use_stored_input_as_cache`: read from the cache where it has the table.

Files are `<base_path>/<scope>/<stage>/<name>__<key>.parquet`; `scope` is the instance and a
digest of where its tables live, so two databases never share a file. A file is written to a
temporary name in its directory and renamed into place (atomic on one filesystem), so a reader
sees a whole file or none, and concurrent writers of one key write the same bytes. A file that
cannot be read (cut short, corrupted) or that holds another key is ignored and rewritten.
The cache is best effort: a failing write is logged, never fails the run. Nothing deletes old
files yet; the directory may be cleared at any time.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from ..outputs import TableRef

logger = logging.getLogger("tabledag.table_cache")

KEY_METADATA = b"tabledag.cache_key"
"""Parquet schema metadata holding the key a file was written for."""

CLASS_NAMES = ("ParquetTableCache", "tabledag.ParquetTableCache")


@dataclass(frozen=True)
class ParquetTableCache:
    """A local table cache in parquet files under `base_path` (see the module docstring)."""

    base_path: str
    store_input: bool = True
    store_output: bool = False
    use_stored_input_as_cache: bool = True
    scope: str = ""
    """Set by the store: the instance and where its tables live."""

    def path(self, ref: TableRef) -> Path:
        return Path(self.base_path) / self.scope / ref.stage / f"{ref.name}__{ref.key}.parquet"

    def get(self, ref: TableRef) -> pa.Table | None:
        """The cached table, or None where there is no valid file for `ref`."""
        import pyarrow.parquet as pq

        path = self.path(ref)
        if not path.is_file():
            return None
        try:
            data = pq.read_table(path)
        except Exception as error:  # a cut-short or corrupted file: read the database again
            logger.warning("ignoring unreadable table cache file %s: %s", path, error)
            return None
        metadata = dict(data.schema.metadata or {})
        if metadata.pop(KEY_METADATA, None) != ref.key.encode():
            logger.warning("ignoring table cache file %s: it holds another key", path)
            return None
        return data.replace_schema_metadata(metadata or None)

    def has(self, ref: TableRef) -> bool:
        return self.path(ref).is_file()

    def put(self, ref: TableRef, data: pa.Table) -> None:
        """Write `data` as `ref`'s file: to a temporary file, then renamed into place."""
        import pyarrow.parquet as pq

        path = self.path(ref)
        temporary: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            metadata = {**(data.schema.metadata or {}), KEY_METADATA: ref.key.encode()}
            import tempfile  # only here: it imports shutil, random, ...

            handle, temporary = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
            os.close(handle)
            # Arrow's own list field names (`item`), so that a list column reads back as the
            # database gave it, not with parquet's `element`.
            pq.write_table(
                data.replace_schema_metadata(metadata),
                temporary,
                use_compliant_nested_type=False,
            )
            os.replace(temporary, path)
            temporary = None
        except Exception as error:  # the cache is an optimisation: never fail a run for it
            logger.warning("could not write table cache file %s: %s", path, error)
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)


def table_cache(spec: Any, instance_id: str, location: str) -> ParquetTableCache | None:
    """The cache a store's `local_table_cache` argument describes: None, a
    `ParquetTableCache`, or a mapping of its arguments, also in pipedag's layout
    (`{class: ParquetTableCache, args: {base_path: ...}, store_input: ..., ...}`).
    `location` (masked) tells apart databases that share an instance id."""
    if spec is None:
        return None
    from ..cache.hashing import stable_hash
    from ..util import mask_url

    scope = f"{instance_id}_{stable_hash(mask_url(location))[:12]}"
    if isinstance(spec, ParquetTableCache):
        return replace(spec, scope=scope)
    if not isinstance(spec, dict):
        raise ConfigError(
            f"local_table_cache must be a mapping such as {{base_path: /tmp/cache}} or a "
            f"ParquetTableCache, not {type(spec).__name__}"
        )
    args = dict(spec)
    name = args.pop("class", None)
    if name is not None and str(name).rsplit(".", 1)[-1] not in CLASS_NAMES:
        raise ConfigError(
            f"local_table_cache: unknown class {name!r}; tabledag has ParquetTableCache"
        )
    nested = args.pop("args", None) or {}
    if not isinstance(nested, dict):
        raise ConfigError("local_table_cache: `args` must be a mapping")
    args.update(nested)
    known = [f.name for f in fields(ParquetTableCache) if f.name != "scope"]
    for key in args:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"local_table_cache: unknown key {key!r}.{hint} Known keys: {', '.join(known)}"
            )
    base = args.get("base_path")
    if not isinstance(base, str | os.PathLike) or not str(base):
        raise ConfigError("local_table_cache needs a `base_path`: the directory for its files")
    for key in ("store_input", "store_output", "use_stored_input_as_cache"):
        if not isinstance(args.get(key, True), bool):
            raise ConfigError(f"local_table_cache: `{key}` must be true or false")
    args["base_path"] = str(base).replace("{instance_id}", instance_id)
    return ParquetTableCache(**args, scope=scope)
