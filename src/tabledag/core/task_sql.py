"""The queries a lazy task builds, without running the flow or writing anything.

`tabledag sql` renders them for another dialect: the task's function runs on its inputs as
their stages last committed them, and each table it returns is turned into its query (a
sqlglot tree in the store's dialect, over the physical tables) by the store's hooks. Nothing
is written, so a run that follows finds nothing changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DeclarationError, HookError
from ..stores.base import CommittedStage, Lazy, Raw, StageRun
from ..tree import map_tree
from .execute import TaskWork, _user, collect_tables, read_inputs
from .stored_outputs import committed_value
from .task import TaskRef

if TYPE_CHECKING:
    from sqlglot import exp

    from ..stores.base import StoreSession
    from .task import TaskCall


def task_queries(session: StoreSession, call: TaskCall) -> dict[str, exp.Query]:
    """Table name -> query, for each table the lazy task `call` returns."""
    if not call.task.lazy:
        raise DeclarationError(
            f"task {call.id!r} is not lazy: it computes its tables in Python, so there is no "
            "SQL to show (declare it @materialize(lazy=True) to have the database build them)"
        )
    committed: dict[str, Any] = {}
    args, kwargs = (
        map_tree(
            v,
            lambda ref: committed_value(session, ref, committed),
            lambda v: isinstance(v, TaskRef),
        )
        for v in (call.args, call.kwargs)
    )
    run = StageRun(CommittedStage(call.stage.name))
    work = TaskWork(call.task, call.name, call.stage.name, args, kwargs, None, run)
    args, kwargs = read_inputs(session, work, args, kwargs)
    returned = _user(call.task.fn, *args, **kwargs)
    _, tables = collect_tables(session.store, work, returned)
    queries: dict[str, exp.Query] = {}
    for table in tables:
        assert table.name is not None
        output = _user(session.materialize, table, call.stage.name)
        if isinstance(output, Raw):
            output = Lazy.of(session.parse_sql(output.sql))
        if not isinstance(output, Lazy):
            raise HookError(
                f"task {call.id!r} returned table {table.name!r} as data, not a query: "
                "only tables the database builds have SQL to show"
            )
        queries[table.name] = output.build()
    return queries
