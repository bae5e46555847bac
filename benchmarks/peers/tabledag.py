"""tabledag on the peers' work (the SQL-text chain and the frame load), timed the same way."""

from __future__ import annotations

import sys
from typing import Any

from . import common


def main(argv: list[str] | None = None) -> int:
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    import tabledag
    from tabledag import Flow, Stage, create_basic_config, materialize

    from ..overhead import build_chain

    figures = common.Figures("tabledag", args.store, tabledag.__version__)
    flow = build_chain("sql", 5, args.tasks // 5, changed=False)
    changed = build_chain("sql", 5, args.tasks // 5, changed=True)

    @materialize(name="frame")
    def load_frame() -> Any:
        import pyarrow.parquet as pq

        return pq.read_table(args.frame)

    with Flow("frame") as frame_flow, Stage("load"):
        load_frame()

    def run(flow: Any, config: Any) -> None:
        result = flow.run(config=config)
        if not result.successful:
            raise RuntimeError(f"tabledag failed: {result.exception}")

    with common.workdir("tabledag") as root:
        for rep in range(args.reps + 1):  # the first round warms imports and connections
            keep = rep > 0
            with common.fresh_db(args.store, root) as db:
                raw = common.raw_chain(db, args.tasks)
            with common.fresh_db(args.store, root) as db:
                config = create_basic_config(db.url)
                fresh = common.timed(run, flow, config)
                same = common.timed(run, flow, config)
                one = common.timed(run, changed, config)
            with common.fresh_db(args.store, root) as db:
                raw_frame = common.raw_frame_load(db, args.frame)
            with common.fresh_db(args.store, root) as db:
                config = create_basic_config(db.url)
                frame = common.timed(run, frame_flow, config)
            if keep:
                for key, value in (("raw_chain", raw), ("fresh", fresh), ("no_change", same),
                                   ("one_change", one), ("raw_frame", raw_frame),
                                   ("frame", frame)):  # fmt: skip
                    figures.sample(key, value)
                message = f"{args.store}: fresh {fresh:.2f} s, no change {same:.2f} s, "
                common.progress("tabledag", message + f"frame {frame:.2f} s (raw {raw_frame:.2f})")
    figures.emit(args.tasks)
    figures.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
