"""pydiverse-pipedag on the chain and the frame load (run in its own venv: `nox -s
bench_peer-pipedag`; the pins of tests/pipedag_examples/requirements.txt, Python 3.12)."""

from __future__ import annotations

import sys
from typing import Any

from . import common


def build(tasks: int, changed: bool) -> Any:
    import sqlalchemy as sa
    from pydiverse.pipedag import Flow, Stage, Table, materialize

    @materialize(lazy=True)
    def source() -> Any:
        return Table(sa.text(common.source_sql()))

    @materialize(lazy=True, input_type=sa.Table)
    def step(t, low):
        return Table(sa.select(t.c.id, t.c.v, t.c.s).where(t.c.v > low))

    per_stage = tasks // 5
    with Flow("chain") as flow:
        previous = None
        for s in range(5):
            with Stage(f"s{s}"):
                for i in range(per_stage):
                    n = s * per_stage + i
                    name = f"t{s}_{i:02d}"
                    if previous is None:
                        previous = _named(source, name)()
                    else:
                        low = -2.0 if changed and n == common.changed_at(tasks) else -1.0
                        previous = _named(step, name)(previous, low)
    return flow


def _named(task: Any, name: str) -> Any:
    return task.with_name(name) if hasattr(task, "with_name") else task


def main(argv: list[str] | None = None) -> int:
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    from importlib.metadata import version

    from pydiverse.pipedag import Flow, Stage, Table, materialize
    from pydiverse.pipedag.core.config import create_basic_pipedag_config

    figures = common.Figures("pipedag", args.store, version("pydiverse-pipedag"))

    @materialize(version="1")
    def frame() -> Any:
        import polars as pl

        return Table(pl.read_parquet(args.frame), name="frame")

    with Flow("frame") as frame_flow, Stage("load"):
        frame()
    flow = build(args.tasks, changed=False)
    changed = build(args.tasks, changed=True)

    def config(db: common.Db, root: Any) -> Any:
        return create_basic_pipedag_config(
            db.url, blob_directory=str(root / "blobs"), disable_stage_locking=True
        ).get("default")

    with common.workdir("pipedag") as root:
        for _rep in range(args.reps):
            with common.fresh_db(args.store, root) as db:
                figures.sample("raw_chain", common.raw_chain(db, args.tasks))
            with common.fresh_db(args.store, root) as db:
                cfg = config(db, root)
                fresh = common.timed(flow.run, config=cfg)
                figures.sample("fresh", fresh)
                same = common.timed(flow.run, config=cfg)
                figures.sample("no_change", same)
                one = common.timed(changed.run, config=cfg)
                figures.sample("one_change", one)
            with common.fresh_db(args.store, root) as db:
                figures.sample("raw_frame", common.raw_frame_load(db, args.frame))
            with common.fresh_db(args.store, root) as db:
                cfg = config(db, root)
                figures.sample("frame", common.timed(frame_flow.run, config=cfg))
            message = f"{args.store}: fresh {fresh:.1f} s, no change {same:.1f} s, one change "
            common.progress("pipedag", message + f"{one:.1f} s")
    figures.emit(args.tasks, {"frame": "a polars DataFrame task output"})
    figures.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
