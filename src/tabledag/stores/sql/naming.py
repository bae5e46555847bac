"""The one place schema, physical-table and view names are spelled.

Physical tables are immutable and named by their cache key: `<stage>__data.<table>__<key16>`.
Names longer than a dialect's identifier limit keep a readable prefix and gain a hash of the full
name, so two long names never collapse into one (Postgres would silently truncate at 63 bytes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

KEY_CHARS = 16
"""Hex digits of the cache key in a physical table name (64 bits)."""

METADATA = "tabledag_metadata"
"""The stage-like name of the metadata schema (prefix and suffix apply to it too)."""


@dataclass(frozen=True)
class Names:
    """Names in one store: schema prefix and suffix, and the identifier limit."""

    prefix: str
    suffix: str
    max_bytes: int

    def schema(self, stage: str) -> str:
        return fit_identifier(f"{self.prefix}{stage}{self.suffix}", self.max_bytes)

    def data_schema(self, stage: str) -> str:
        return fit_identifier(f"{self.prefix}{stage}{self.suffix}__data", self.max_bytes)

    def view(self, name: str) -> str:
        return fit_identifier(name, self.max_bytes)

    def physical(self, name: str, key: str) -> str:
        return fit_identifier(
            f"{name}__{key[:KEY_CHARS]}", self.max_bytes, keep_suffix=KEY_CHARS + 2
        )


def fit_identifier(name: str, max_bytes: int, keep_suffix: int = 0) -> str:
    """`name` itself if it fits in `max_bytes` of UTF-8, else a shortened, still unique name."""
    if len(name.encode()) <= max_bytes:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    suffix = name[len(name) - keep_suffix :] if keep_suffix else ""
    budget = max_bytes - len(digest) - 1 - len(suffix.encode())
    head = name[: len(name) - keep_suffix] if keep_suffix else name
    while len(head.encode()) > budget:
        head = head[:-1]
    return f"{head}_{digest}{suffix}"
