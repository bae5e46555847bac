"""`Table(...).materialize()` inside a task (pipedag's imperative materialization).

While a task's function runs, `Imperative` is the writer `Table.materialize()` calls: it names
the table as a returned one would be named, writes it now through the task's own session and
run (same task key, so the same cache rules), and hands it back in the task's input type. The
object it handed back stands for that table if the task returns it; tables written so and not
returned are kept with the task's outputs (`recorded` / `split`), so a cache hit shows them
again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import DebugTaintedError
from ..outputs import Table, TableRef, imperative_writer

if TYPE_CHECKING:
    from ..cache.keys import Key
    from ..stores.base import Stored, StoreSession
    from .execute import TaskWork

logger = logging.getLogger("tabledag.run")

ALSO = "tabledag:also"
VALUE = "tabledag:value"
CACHE = "tabledag:cache"
"""Keys of a task record's outputs when the task wrote tables it did not return, or has a
cache function (its value's digest)."""


@dataclass
class Imperative:
    session: StoreSession
    work: TaskWork
    task_key: Key
    force: str | None = None
    written: list[Stored] = field(default_factory=list)
    by_id: dict[int, TableRef] = field(default_factory=dict)
    _keep: list[Any] = field(default_factory=list)
    """The objects handed back, alive, so that their ids stay theirs."""
    tainted: list[str] = field(default_factory=list)
    """Tables materialized a second time (pipedag's "debug mode"): the task fails at its end."""
    _names: dict[int, str] = field(default_factory=dict)
    """id of a `Table` materialized -> the name it was written under (kept alive in `_keep`)."""

    def __call__(self, table: Table, as_type: Any = None) -> Any:
        from .execute import _note_table, unique_name

        work, run = self.work, self.work.run
        name = self._names.get(id(table), table.name)
        if name is None:
            taken = {s.ref.name for s in self.written}
            name = work.name if work.name not in taken else f"{work.name}_{len(self.written)}"
        elif name.endswith("%%"):
            name = unique_name(name[:-2], work.name, len(self.written))
        if any(s.ref.name == name for s in self.written):
            logger.warning(
                "%s materialized table %r a second time: written again for interactive "
                "debugging; the task fails when it returns",
                work.describe(),
                name,
            )
            self.tainted.append(name)
        original = table
        table = replace(table, name=name)
        if table.materialization_details is None and work.materialization_details is not None:
            table = replace(table, materialization_details=work.materialization_details)
        run.claim(name, work.name)
        try:
            output = self.session.materialize(table, work.stage)
            stored = self.session.write(run, table, output, self.task_key, self.force)
        except Exception as error:
            _note_table(error, name)
            raise
        self.written.append(stored)
        self._names[id(original)] = name
        self._keep.append(original)
        wanted = as_type if as_type is not None else work.task.input_type
        value = (
            stored.ref if wanted is None else self.session.retrieve(stored.ref, work.stage, wanted)
        )
        self.by_id[id(value)] = stored.ref
        self._keep.append(value)
        return value

    def known(self, value: Any) -> TableRef | None:
        """The table an object this writer handed back stands for."""
        return self.by_id.get(id(value))

    def check_untainted(self) -> None:
        """After the task returned: a table it materialized twice fails it (as in pipedag,
        whose cache cannot stand for what such a task wrote)."""
        if self.tainted:
            names = ", ".join(repr(n) for n in dict.fromkeys(self.tainted))
            raise DebugTaintedError(
                f"{self.work.describe()} has been tainted by interactive debugging: it "
                f"materialized {names} more than once, so its cache key cannot stand for "
                "what it wrote. Aborting: keep one materialize() call per table"
            )


@contextlib.contextmanager
def writing(imperative: Imperative) -> Iterator[Imperative]:
    token = imperative_writer.set(imperative)
    try:
        yield imperative
    finally:
        imperative_writer.reset(token)


def recorded(outputs: Any, also: list[TableRef], cache: str | None = None) -> Any:
    """What the task record keeps: the outputs, the tables written but not returned, and
    the digest of the cache function's value."""
    if not also and cache is None:
        return outputs
    kept: dict[str, Any] = {VALUE: outputs, ALSO: also}
    if cache is not None:
        kept[CACHE] = cache
    return kept


def split(kept: Any) -> tuple[Any, list[TableRef], str | None]:
    """A task record's outputs -> (what the task returned, tables it also wrote, cache)."""
    if isinstance(kept, dict) and VALUE in kept and set(kept) <= {VALUE, ALSO, CACHE}:
        return kept[VALUE], list(kept.get(ALSO, ())), kept.get(CACHE)
    return kept, [], None
