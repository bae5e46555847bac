"""A SQLTableStore that stops, records or signals at named statements (the `fault_point` seam).

Configured through store arguments, so it works in this process and in a subprocess built from
a `Config`:

- `record`: a file to append one `phase<TAB>statement` line per statement sent;
- `crash_at`: `[phase, n]`: raise `SimulatedCrash` right after the n-th (0-based) statement of
  `phase`. It is a `BaseException`, which tabledag never handles: like a kill, nothing after the
  statement runs except `finally` blocks, and those only roll back or close;
- `kill_at`: `[phase, n]`: SIGKILL this process right after that statement (the real thing);
- `signal_at`: `[phase, path]`: create `path` the first time `phase` is reached (so that a test
  waits for a run to get somewhere instead of sleeping).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from tabledag import ArrowTableStore, ParquetTableStore, SQLTableStore

PHASES = ("write", "commit", "cleanup")
"""Phases in which a stop must never damage a committed stage."""


class SimulatedCrash(BaseException):
    """Stands in for a kill at a fault point."""


class Faults:
    """The `fault_point` behaviour, mixed into each store class below."""

    record: str | None = None
    crash_at: tuple[Any, ...] | None = None
    kill_at: tuple[Any, ...] | None = None
    signal_at: tuple[Any, ...] | None = None

    def set_faults(
        self,
        record: str | None = None,
        crash_at: list[Any] | None = None,
        kill_at: list[Any] | None = None,
        signal_at: list[Any] | None = None,
    ) -> dict[str, Any]:
        """Apply fault settings; returns them, to travel with the store's arguments."""
        self.record = record
        self.crash_at = tuple(crash_at) if crash_at else None
        self.kill_at = tuple(kill_at) if kill_at else None
        self.signal_at = tuple(signal_at) if signal_at else None
        self.seen: dict[str, int] = {}
        given = {"record": record, "crash_at": crash_at, "kill_at": kill_at}
        return {k: v for k, v in {**given, "signal_at": signal_at}.items() if v is not None}

    def fault_point(self, phase: str, statement: str) -> None:
        index = self.seen.get(phase, 0)
        self.seen[phase] = index + 1
        if self.record:
            with open(self.record, "a") as file:
                file.write(f"{phase}\t{' '.join(statement.split())}\n")
        if self.signal_at and self.signal_at[0] == phase:
            Path(self.signal_at[1]).touch()
        if self.kill_at == (phase, index):
            os.kill(os.getpid(), signal.SIGKILL)
        if self.crash_at == (phase, index):
            raise SimulatedCrash(f"crash after {phase} statement {index}: {statement[:80]}")


_FAULTS = ("record", "crash_at", "kill_at", "signal_at")


class FaultyStore(Faults, SQLTableStore):
    def __init__(self, url: str, **args: Any) -> None:
        faults = {k: args.pop(k) for k in _FAULTS if k in args}
        super().__init__(url, **args)
        self._init_args.update(self.set_faults(**faults))


class FaultyParquetStore(Faults, ParquetTableStore):
    def __init__(self, url: str, **args: Any) -> None:
        faults = {k: args.pop(k) for k in _FAULTS if k in args}
        super().__init__(url, **args)
        self._init_args.update(self.set_faults(**faults))


class FaultyArrowStore(Faults, ArrowTableStore):
    """The in-memory store of the tests: its fault settings change in place, since every
    config of one test target must share one store object."""

    def __init__(self, **args: Any) -> None:
        super().__init__(**args)
        self.set_faults()


def faulty_config(url: str, **args: Any) -> Any:
    from tabledag import Config

    return Config("pipeline", {"class": "tests.faults:FaultyStore", "args": {"url": url, **args}})


def recorded_points(path: Path) -> list[tuple[str, int, str]]:
    """(phase, index within the phase, statement) of each recorded statement."""
    counts: dict[str, int] = {}
    points = []
    for line in path.read_text().splitlines():
        phase, statement = line.split("\t", 1)
        points.append((phase, counts.get(phase, 0), statement))
        counts[phase] = counts.get(phase, 0) + 1
    return points
