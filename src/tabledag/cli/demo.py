"""The demonstration pipeline behind `tabledag demo`: eager Arrow frames, lazy ibis tasks, a join
and an aggregate, run twice on DuckDB to show every task cached the second time.

Only core dependencies are used (pyarrow and ibis), so it runs right after `pip install tabledag`.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from tabledag import Flow, Stage, materialize

SEGMENTS = ["retail", "wholesale", "online"]


@materialize(version="1")
def customers() -> pa.Table:
    ids = pa.array(range(1_000), pa.int64())
    # pyarrow-stubs 20 know neither `+` on arrays nor Python scalars in compute functions
    group = pc.bit_wise_and(ids, 1) + pc.divide(ids, 500)  # type: ignore[operator]
    segment = pc.take(pa.array(SEGMENTS), pc.cast(group, pa.int32()))
    return pa.table({"customer_id": ids, "segment": segment})


@materialize()
def orders(n: int) -> pa.Table:
    """Unversioned: runs every time; unchanged data keeps everything downstream cached."""
    ids = pa.array(range(n), pa.int64())
    return pa.table(
        {
            "order_id": ids,
            "customer_id": pc.bit_wise_and(pc.multiply(ids, 7919), 1023),
            "amount": pc.divide(
                pc.cast(pc.bit_wise_and(pc.multiply(ids, 104729), 65535), pa.float64()), 100.0
            ),
        }
    ).filter(
        pc.less(pc.bit_wise_and(pc.multiply(ids, 7919), 1023), 1000)  # type: ignore[call-overload]
    )


@materialize(lazy=True, input_type=ibis.Table)
def big_orders(orders: ibis.Table) -> ibis.Table:
    return orders.filter(orders.amount > 100)


@materialize(lazy=True, input_type=ibis.Table)
def orders_with_segment(orders: ibis.Table, customers: ibis.Table) -> ibis.Table:
    return orders.join(customers, "customer_id").select("order_id", "segment", "amount")


@materialize(lazy=True, input_type=ibis.Table)
def revenue_by_segment(rows: ibis.Table) -> ibis.Table:
    return (
        rows.group_by("segment")
        .aggregate(orders=rows.count(), revenue=rows.amount.sum().round(2))
        .order_by("segment")
    )


@materialize(input_type=pa.Table, version="1")
def report(revenue: pa.Table) -> dict:
    """Returns plain values too: they are kept in the metadata, not as a table."""
    return {"segments": revenue.num_rows, "total": round(pc.sum(revenue["revenue"]).as_py(), 2)}


def build_flow(n_orders: int = 200_000) -> tuple[Flow, dict]:
    with Flow("demo") as flow:
        with Stage("raw"):
            c = customers()
            o = orders(n_orders)
        with Stage("model"):
            big = big_orders(o)
            joined = orders_with_segment(big, c)
            revenue = revenue_by_segment(joined)
        with Stage("reports"):
            summary = report(revenue)
    return flow, {"big_orders": big, "revenue": revenue, "summary": summary}
