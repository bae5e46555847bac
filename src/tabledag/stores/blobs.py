"""The blob store: `Blob(obj, name)` outputs, pickled, one immutable file per content key.

`FileBlobStore(base_path)` keeps `<base_path>/<instance>/<stage>/<name>__<key>.pkl` on any
fsspec path (local, s3://...). A file is written under a temporary name and moved into place,
so a reader never sees half a blob, and is never changed afterwards: a new version is a new
key, and the task record that names it commits with its stage, as tables do (a failed run
leaves the committed blobs as they were).
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from ..errors import StoreError
from ..outputs import BlobRef


class FileBlobStore:
    """Blobs as pickle files under `base_path` (a directory or an fsspec URL)."""

    def __init__(self, base_path: str, instance_id: str = "", **storage_options: Any) -> None:
        self.base_path = str(base_path).rstrip("/")
        self.instance_id = instance_id
        self.storage_options = storage_options
        self._fs: Any = None

    def for_instance(self, instance_id: str) -> FileBlobStore:
        return FileBlobStore(self.base_path, instance_id, **self.storage_options)

    def __repr__(self) -> str:
        return f"FileBlobStore({self.base_path!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fs": None}

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            self._fs = fsspec.url_to_fs(self.base_path, **self.storage_options)[0]
        return self._fs

    def path(self, ref: BlobRef) -> str:
        parts = [self.base_path, self.instance_id or "default", ref.stage]
        return "/".join([*parts, f"{ref.name}__{ref.key}.pkl"])

    def put(self, ref: BlobRef, data: bytes) -> None:
        """Keep `data` (a pickle) for `ref`, unless it is kept already."""
        path = self.path(ref)
        try:
            if self.fs.exists(path):
                return
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            partial = f"{path}.{os.urandom(4).hex()}.partial"
            with self.fs.open(partial, "wb") as file:
                file.write(data)
            self.fs.mv(partial, path)
        except OSError as error:
            raise StoreError(f"blob {ref.name!r} of stage {ref.stage!r}: {error}") from error

    def exists(self, ref: BlobRef) -> bool:
        return bool(self.fs.exists(self.path(ref)))

    def get(self, ref: BlobRef) -> Any:
        try:
            with self.fs.open(self.path(ref), "rb") as file:
                return pickle.load(file)  # the instance's own blobs
        except FileNotFoundError:
            raise StoreError(
                f"blob {ref.name!r} of stage {ref.stage!r} is gone from {self!r}: run the "
                "task that writes it again (flow.run(ignore_cache=True) for its stage)"
            ) from None


def dumps(obj: Any, where: str) -> bytes:
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise StoreError(f"{where}: the object cannot be pickled as a blob: {error}") from error
