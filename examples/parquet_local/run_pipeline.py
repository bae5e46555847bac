"""A pipeline whose tables are parquet files: eager frames written by pyarrow, lazy ibis tasks
run by DuckDB (`COPY ... TO` parquet), frame inputs read straight from the files.

    python examples/parquet_local/run_pipeline.py [data directory]

Run it twice: the second run finds every table in the files and writes nothing. Delete the
catalogue (it is in memory here) or use another machine with the same directory: the files
alone are enough to attach, with the same cache hits.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from tabledag import Config, Flow, Stage, Table, materialize


@materialize(version="1")
def stations() -> pa.Table:
    ids = pa.array(range(50), pa.int64())
    return pa.table({"station_id": ids, "zone": pc.cast(pc.bit_wise_and(ids, 3), pa.string())})


@materialize()
def readings() -> pa.Table:
    n = 200_000
    ids = pa.array(range(n), pa.int64())
    return pa.table(
        {
            "reading_id": ids,
            "station_id": pc.bit_wise_and(pc.multiply(ids, 7919), 63),
            "celsius": pc.divide(
                pc.cast(pc.bit_wise_and(pc.multiply(ids, 104729), 4095), pa.float64()), 100.0
            ),
        }
    )


@materialize(lazy=True, input_type=ibis.Table)
def by_zone(readings: ibis.Table, stations: ibis.Table) -> Table:
    joined = readings.join(stations, "station_id")
    summary = joined.group_by("zone").aggregate(n=joined.count(), mean=joined.celsius.mean())
    return Table(summary.order_by("zone"), name="temperature_by_zone")


def run(config: Config) -> None:
    """Declare the flow, run it twice (the second run writes nothing) and print the result."""
    with Flow("parquet_example") as flow:
        with Stage("raw"):
            s = stations()
            r = readings()
        with Stage("model"):
            z = by_zone(r, s)
    for _ in range(2):
        result = flow.run(config=config)
        print(result.summary(), end="\n\n")
    print(result.get(z, as_type=pa.Table).to_pylist())
    result.close()


def main() -> None:
    default = Path(tempfile.gettempdir()) / "tabledag-parquet-example"
    data = sys.argv[1] if len(sys.argv) > 1 else str(default)
    os.environ["EXAMPLE_DATA"] = data
    run(Config.load(Path(__file__).parent).get())
    print(f"\nthe files are under {data}")


if __name__ == "__main__":
    main()
