"""Benchmark figures as plain records, their targets and verdicts, and the results file.

A figure: `part` (tpch, overhead, fixed, peers), `store`, `tool` (tabledag or a peer),
`name`, `seconds` (median), optionally `ceiling` (what the raw way is) with `ceiling_seconds`
measured in the same run, `per` (seconds per task / model, where counted) and `target`.
`ratio` is always time / ceiling time (lower is better; a load "at 0.95x the ceiling's speed"
is a time ratio <= 1.05). Verdicts compare medians with the target.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    text: str
    max_ratio: float | None = None
    """time / ceiling time must stay at or below this"""
    max_ms: float | None = None
    """or: the figure's milliseconds (per task where `per_task`) at or below this"""
    per_task: bool = False

    def meets(self, figure: dict[str, Any]) -> bool | None:
        if self.max_ratio is not None:
            r = figure.get("ratio")
            return None if r is None else r <= self.max_ratio
        if self.max_ms is not None:
            value = figure.get("per_seconds") if self.per_task else figure.get("seconds")
            return None if value is None else value * 1e3 <= self.max_ms
        return None


TARGET_LOAD = Target("speed >= 0.95x the ceiling (time <= 1.05x)", max_ratio=1 / 0.95)
TARGET_READ = TARGET_LOAD
TARGET_QUERIES = Target("<= 1.1x the same SQL sent directly", max_ratio=1.1)
TARGET_CACHED_FLOW = Target("<= 50 ms", max_ms=50.0)
TARGET_TINY_FRESH = Target("<= 4 ms per task", max_ms=4.0, per_task=True)
TARGET_TINY_CACHED = Target("<= 1 ms per task", max_ms=1.0, per_task=True)
TARGET_FIXED = Target("<= 20 ms over raw", max_ms=20.0)
TARGET_COLD = Target("<= 150 ms", max_ms=150.0)

LOAD_CEILINGS = {
    "parquet": "pyarrow write_table",
    "parquet_s3": "pyarrow write_table through s3fs",
    "memory": "DuckDB register of the Arrow table",
    "snowflake": "PUT parquet + COPY INTO",
}
READ_CEILINGS = {
    "duckdb": "DuckDB to_arrow_table",
    "postgres": "ADBC fetch_arrow_table",
    "parquet": "pyarrow read_table",
    "parquet_s3": "pyarrow read_table through s3fs",
    "memory": "the Arrow table itself",
    "snowflake": "fetch_arrow_all",
}
TARGETS = {
    t.text: t
    for t in (
        TARGET_LOAD,
        TARGET_QUERIES,
        TARGET_CACHED_FLOW,
        TARGET_TINY_FRESH,
        TARGET_TINY_CACHED,
        TARGET_FIXED,
        TARGET_COLD,
    )
}


@dataclass
class Collector:
    figures: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        *,
        part: str,
        store: str,
        name: str,
        seconds: float,
        tool: str = "tabledag",
        ceiling: str | None = None,
        ceiling_seconds: float | None = None,
        count: int | None = None,
        target: Target | None = None,
        note: str | None = None,
        **info: Any,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "part": part,
            "store": store,
            "tool": tool,
            "name": name,
            "seconds": seconds,
            **info,
        }
        if count:
            record["count"] = count
            record["per_seconds"] = seconds / count
        if ceiling is not None and ceiling_seconds:
            record["ceiling"] = ceiling
            record["ceiling_seconds"] = ceiling_seconds
            record["ratio"] = seconds / ceiling_seconds
            if count:
                record["ceiling_per_seconds"] = ceiling_seconds / count
        if target is not None:
            record["target"] = target.text
            record["meets"] = target.meets(record)
        if note:
            record["note"] = note
        self.figures.append(record)
        return record

    def skip(self, part: str, store: str, why: str, tool: str = "tabledag") -> None:
        self.skipped.append({"part": part, "store": store, "tool": tool, "why": why})

    def merge(self, other: dict[str, Any]) -> None:
        self.figures += other.get("figures", [])
        self.skipped += other.get("skipped", [])
        for key, value in other.get("extra", {}).items():
            if isinstance(value, dict):
                self.extra.setdefault(key, {}).update(value)
            else:
                self.extra[key] = value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: str | Path | None) -> None:
        if path:
            Path(path).write_text(json.dumps(self.as_dict(), indent=1, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def read(path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data
