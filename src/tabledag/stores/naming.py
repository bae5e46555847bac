"""The one place physical and view names are spelled.

Physical tables are immutable and named by their cache key: `<stage>__data.<table>__<key16>`.
Names longer than a dialect's identifier limit keep a readable prefix and gain a hash of the full
name, so two long names never collapse into one (Postgres would silently truncate at 63 bytes).
"""

from __future__ import annotations

import hashlib

KEY_CHARS = 16
"""Hex digits of the cache key in a physical table name (64 bits)."""


def physical_schema(stage_schema: str) -> str:
    return f"{stage_schema}__data"


def physical_table(name: str, key: str, max_bytes: int) -> str:
    return fit_identifier(f"{name}__{key[:KEY_CHARS]}", max_bytes, keep_suffix=KEY_CHARS + 2)


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
