"""A fully cached rerun must not depend on the data size: the same flow holding a 1M-row table
and a 1k-row table.

The flow: stage `raw` with a versioned eager task returning the mixed table (pyarrow), stage
`model` with a lazy ibis aggregate of it. Each size has its own database, run once untimed;
then the whole `flow.run` of the cached reruns is timed, the two sizes alternating. Target:
big / small ~ 1.0.

For information, the same with an unversioned eager task, which runs on every rerun and
re-hashes its output to find it already stored (that cost grows with the data by design).

    python -m benchmarks.cached_rerun [--store duckdb|postgres] [--quick]
"""

from __future__ import annotations

from typing import Any

from . import _common as c
from .data import mixed_table

TARGET_RATIO = 1.1
"""What "about 1.0" means on a noisy machine."""


def build_flow(name: str, data: Any, versioned: bool) -> Any:
    import ibis

    from tabledag import Flow, Stage, materialize

    @materialize(name="orders", version="1" if versioned else None)
    def orders() -> Any:
        return data

    @materialize(lazy=True, input_type=ibis.Table)
    def by_category(t: Any) -> Any:
        return t.group_by("category").aggregate(n=t.count(), revenue=(t.price * t.quantity).sum())

    with Flow(name) as flow:
        with Stage("raw"):
            o = orders()
        with Stage("model"):
            by_category(o)
    return flow


def body(report: c.Report, target: c.Target, args: Any) -> None:
    big_rows = 100_000 if args.quick else 1_000_000
    small_rows = 1_000
    reps = args.reps or (5 if args.quick else 21)
    report.params.update(big=f"{big_rows:,}", small=f"{small_rows:,}", reps=reps, warmup=1)
    tables = {"big": mixed_table(big_rows), "small": mixed_table(small_rows)}

    contexts = []
    cases = []
    states: dict[str, set[str]] = {}
    try:
        for versioned in (True, False):
            for size, data in tables.items():
                name = f"{'v' if versioned else 'u'}_{size}"
                flow = build_flow(name, data, versioned)
                ctx = target.fresh()
                contexts.append(ctx)
                config = ctx.__enter__().config()
                first = flow.run(config=config)
                if first.exception is not None:
                    raise RuntimeError(f"{name}: first run failed: {first.exception}")

                def rerun(_: Any, flow: Any = flow, config: Any = config, name: str = name) -> None:
                    result = flow.run(config=config)
                    if result.exception is not None:
                        raise RuntimeError(f"{name}: rerun failed: {result.exception}")
                    states[name] = {f"{call.name}={s.name}" for call, s in result.states.items()}

                cases.append(c.Case(name, rerun))
        times = c.interleaved(cases, reps)
    finally:
        for ctx in contexts:
            ctx.__exit__(None, None, None)

    section = report.section(
        "fully cached rerun (whole flow.run, 2 tasks)",
        [
            "eager task",
            "1k rows ms",
            "spread",
            f"{big_rows // 1000}k rows ms",
            "spread",
            "big / small",
            "(best)",
            "target",
            "verdict",
        ],
    )
    for prefix, label, check in (
        ("v", "versioned (the case)", True),
        ("u", "unversioned (info)", False),
    ):
        small, big = times[f"{prefix}_small"], times[f"{prefix}_big"]
        r = big.median / small.median
        section.rows.append(
            [
                label,
                c.ms(small.median),
                small.spread,
                c.ms(big.median),
                big.spread,
                c.ratio(r),
                c.ratio(big.best / small.best),
                f"<= {TARGET_RATIO}" if check else "",
                c.verdict(r <= TARGET_RATIO) if check else "",
            ]
        )
    report.notes.append(
        "(best) = the ratio of the fastest repetitions; the verdict uses medians. The flow has "
        "2 tasks, so these times are almost all per-run cost (lock, connect, metadata setup, "
        "stage loads, close)"
    )
    for name in sorted(states):
        report.notes.append(f"task states on rerun, {name}: {', '.join(sorted(states[name]))}")


def main(argv: list[str] | None = None) -> int:
    args = c.parser(__doc__.splitlines()[0]).parse_args(argv)
    c.silence_tabledag_logging()
    return c.main_wrapper("cached_rerun", args, lambda r, t: body(r, t, args), {})


if __name__ == "__main__":
    raise SystemExit(main())
