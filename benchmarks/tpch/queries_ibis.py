"""The 22 TPC-H queries as ibis expressions, the same parameters as `queries_sql`.

Each function takes the tables it reads as keyword arguments named after them (ibis tables,
as a lazy task's `ibis.Table` inputs are) and returns an expression; `QUERIES` maps the query
name to its function. Column names and output order follow the SQL text, so the two variants
give equal tables.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

Expr = Any


def _ibis() -> Any:
    import ibis

    return ibis


def _date(text: str) -> Any:
    return _ibis().date(text)


def q01(lineitem: Expr) -> Expr:
    t = lineitem
    t = t.filter(t.l_shipdate <= _date("1998-09-02"))
    disc = t.l_extendedprice * (1 - t.l_discount)
    return (
        t.group_by(["l_returnflag", "l_linestatus"])
        .aggregate(
            sum_qty=t.l_quantity.sum(),
            sum_base_price=t.l_extendedprice.sum(),
            sum_disc_price=disc.sum(),
            sum_charge=(disc * (1 + t.l_tax)).sum(),
            avg_qty=t.l_quantity.mean(),
            avg_price=t.l_extendedprice.mean(),
            avg_disc=t.l_discount.mean(),
            count_order=t.count(),
        )
        .order_by(["l_returnflag", "l_linestatus"])
    )


def q02(part: Expr, supplier: Expr, partsupp: Expr, nation: Expr, region: Expr) -> Expr:
    europe = (
        partsupp.join(supplier, partsupp.ps_suppkey == supplier.s_suppkey)
        .join(nation, supplier.s_nationkey == nation.n_nationkey)
        .join(region, nation.n_regionkey == region.r_regionkey)
        .filter(lambda t: t.r_name == "EUROPE")
    )
    cheapest = europe.group_by("ps_partkey").aggregate(min_cost=europe.ps_supplycost.min())
    q = (
        part.filter((part.p_size == 15) & part.p_type.like("%BRASS"))
        .join(europe, part.p_partkey == europe.ps_partkey)
        .join(cheapest, "ps_partkey")
        .filter(lambda t: t.ps_supplycost == t.min_cost)
    )
    return (
        q.select(
            "s_acctbal",
            "s_name",
            "n_name",
            "p_partkey",
            "p_mfgr",
            "s_address",
            "s_phone",
            "s_comment",
        )
        .order_by([_ibis().desc("s_acctbal"), "n_name", "s_name", "p_partkey"])
        .limit(100)
    )


def q03(customer: Expr, orders: Expr, lineitem: Expr) -> Expr:
    c = customer.filter(customer.c_mktsegment == "BUILDING")
    o = orders.filter(orders.o_orderdate < _date("1995-03-15"))
    li = lineitem.filter(lineitem.l_shipdate > _date("1995-03-15"))
    q = c.join(o, c.c_custkey == o.o_custkey).join(li, li.l_orderkey == o.o_orderkey)
    return (
        q.group_by(["l_orderkey", "o_orderdate", "o_shippriority"])
        .aggregate(revenue=(q.l_extendedprice * (1 - q.l_discount)).sum())
        .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
        .order_by([_ibis().desc("revenue"), "o_orderdate", "l_orderkey"])
        .limit(10)
    )


def q04(orders: Expr, lineitem: Expr) -> Expr:
    late = lineitem.filter(lineitem.l_commitdate < lineitem.l_receiptdate)
    o = orders.filter(
        (orders.o_orderdate >= _date("1993-07-01"))
        & (orders.o_orderdate < _date("1993-10-01"))
        & orders.o_orderkey.isin(late.l_orderkey)
    )
    return (
        o.group_by("o_orderpriority").aggregate(order_count=o.count()).order_by("o_orderpriority")
    )


def q05(
    customer: Expr, orders: Expr, lineitem: Expr, supplier: Expr, nation: Expr, region: Expr
) -> Expr:
    o = orders.filter(
        (orders.o_orderdate >= _date("1994-01-01")) & (orders.o_orderdate < _date("1995-01-01"))
    )
    q = (
        customer.join(o, customer.c_custkey == o.o_custkey)
        .join(lineitem, lineitem.l_orderkey == o.o_orderkey)
        .join(
            supplier,
            (lineitem.l_suppkey == supplier.s_suppkey)
            & (customer.c_nationkey == supplier.s_nationkey),
        )
        .join(nation, supplier.s_nationkey == nation.n_nationkey)
        .join(region, nation.n_regionkey == region.r_regionkey)
        .filter(lambda t: t.r_name == "ASIA")
    )
    return (
        q.group_by("n_name")
        .aggregate(revenue=(q.l_extendedprice * (1 - q.l_discount)).sum())
        .order_by(_ibis().desc("revenue"))
    )


def q06(lineitem: Expr) -> Expr:
    t = lineitem
    t = t.filter(
        (t.l_shipdate >= _date("1994-01-01"))
        & (t.l_shipdate < _date("1995-01-01"))
        & t.l_discount.between(0.05, 0.07)
        & (t.l_quantity < 24)
    )
    return t.aggregate(revenue=(t.l_extendedprice * t.l_discount).sum())


def q07(supplier: Expr, lineitem: Expr, orders: Expr, customer: Expr, nation: Expr) -> Expr:
    n1 = nation.select(n1_key="n_nationkey", supp_nation="n_name")
    n2 = nation.select(n2_key="n_nationkey", cust_nation="n_name")
    q = (
        supplier.join(lineitem, supplier.s_suppkey == lineitem.l_suppkey)
        .join(orders, orders.o_orderkey == lineitem.l_orderkey)
        .join(customer, customer.c_custkey == orders.o_custkey)
        .join(n1, supplier.s_nationkey == n1.n1_key)
        .join(n2, customer.c_nationkey == n2.n2_key)
    )
    q = q.select(
        "supp_nation",
        "cust_nation",
        l_year=q.l_shipdate.year(),
        volume=q.l_extendedprice * (1 - q.l_discount),
        l_shipdate=q.l_shipdate,
    )
    q = q.filter(
        (
            ((q.supp_nation == "FRANCE") & (q.cust_nation == "GERMANY"))
            | ((q.supp_nation == "GERMANY") & (q.cust_nation == "FRANCE"))
        )
        & q.l_shipdate.between(_date("1995-01-01"), _date("1996-12-31"))
    )
    return (
        q.group_by(["supp_nation", "cust_nation", "l_year"])
        .aggregate(revenue=q.volume.sum())
        .order_by(["supp_nation", "cust_nation", "l_year"])
    )


def q08(
    part: Expr,
    supplier: Expr,
    lineitem: Expr,
    orders: Expr,
    customer: Expr,
    nation: Expr,
    region: Expr,
) -> Expr:
    ibis = _ibis()
    n1 = nation.select(n1_key="n_nationkey", n1_region="n_regionkey")
    n2 = nation.select(n2_key="n_nationkey", nation="n_name")
    q = (
        part.filter(part.p_type == "ECONOMY ANODIZED STEEL")
        .join(lineitem, part.p_partkey == lineitem.l_partkey)
        .join(supplier, supplier.s_suppkey == lineitem.l_suppkey)
        .join(orders, lineitem.l_orderkey == orders.o_orderkey)
        .join(customer, orders.o_custkey == customer.c_custkey)
        .join(n1, customer.c_nationkey == n1.n1_key)
        .join(region.filter(region.r_name == "AMERICA"), n1.n1_region == region.r_regionkey)
        .join(n2, supplier.s_nationkey == n2.n2_key)
    )
    q = q.filter(q.o_orderdate.between(_date("1995-01-01"), _date("1996-12-31")))
    q = q.select(
        o_year=q.o_orderdate.year(),
        volume=q.l_extendedprice * (1 - q.l_discount),
        nation=q.nation,
    )
    brazil = ibis.cases((q.nation == "BRAZIL", q.volume), else_=0)
    return (
        q.group_by("o_year").aggregate(mkt_share=brazil.sum() / q.volume.sum()).order_by("o_year")
    )


def q09(
    part: Expr, supplier: Expr, lineitem: Expr, partsupp: Expr, orders: Expr, nation: Expr
) -> Expr:
    q = (
        lineitem.join(supplier, supplier.s_suppkey == lineitem.l_suppkey)
        .join(
            partsupp,
            (partsupp.ps_suppkey == lineitem.l_suppkey)
            & (partsupp.ps_partkey == lineitem.l_partkey),
        )
        .join(part.filter(part.p_name.like("%green%")), part.p_partkey == lineitem.l_partkey)
        .join(orders, orders.o_orderkey == lineitem.l_orderkey)
        .join(nation, supplier.s_nationkey == nation.n_nationkey)
    )
    q = q.select(
        nation=q.n_name,
        o_year=q.o_orderdate.year(),
        amount=q.l_extendedprice * (1 - q.l_discount) - q.ps_supplycost * q.l_quantity,
    )
    return (
        q.group_by(["nation", "o_year"])
        .aggregate(sum_profit=q.amount.sum())
        .order_by(["nation", _ibis().desc("o_year")])
    )


def q10(customer: Expr, orders: Expr, lineitem: Expr, nation: Expr) -> Expr:
    o = orders.filter(
        (orders.o_orderdate >= _date("1993-10-01")) & (orders.o_orderdate < _date("1994-01-01"))
    )
    q = (
        customer.join(o, customer.c_custkey == o.o_custkey)
        .join(lineitem.filter(lineitem.l_returnflag == "R"), lineitem.l_orderkey == o.o_orderkey)
        .join(nation, customer.c_nationkey == nation.n_nationkey)
    )
    keys = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]
    return (
        q.group_by(keys)
        .aggregate(revenue=(q.l_extendedprice * (1 - q.l_discount)).sum())
        .select(
            "c_custkey",
            "c_name",
            "revenue",
            "c_acctbal",
            "n_name",
            "c_address",
            "c_phone",
            "c_comment",
        )
        .order_by([_ibis().desc("revenue"), "c_custkey"])
        .limit(20)
    )


def q11(partsupp: Expr, supplier: Expr, nation: Expr) -> Expr:
    q = (
        partsupp.join(supplier, partsupp.ps_suppkey == supplier.s_suppkey)
        .join(nation, nation.n_nationkey == supplier.s_nationkey)
        .filter(lambda t: t.n_name == "GERMANY")
    )
    worth = q.ps_supplycost * q.ps_availqty
    threshold = worth.sum() * 0.0001
    g = q.group_by("ps_partkey").aggregate(value=worth.sum())
    return g.filter(g.value > threshold.as_scalar()).order_by([_ibis().desc("value"), "ps_partkey"])


def q12(orders: Expr, lineitem: Expr) -> Expr:
    ibis = _ibis()
    li = lineitem.filter(
        lineitem.l_shipmode.isin(["MAIL", "SHIP"])
        & (lineitem.l_commitdate < lineitem.l_receiptdate)
        & (lineitem.l_shipdate < lineitem.l_commitdate)
        & (lineitem.l_receiptdate >= _date("1994-01-01"))
        & (lineitem.l_receiptdate < _date("1995-01-01"))
    )
    q = orders.join(li, orders.o_orderkey == li.l_orderkey)
    high = q.o_orderpriority.isin(["1-URGENT", "2-HIGH"])
    return (
        q.group_by("l_shipmode")
        .aggregate(
            high_line_count=ibis.cases((high, 1), else_=0).sum(),
            low_line_count=ibis.cases((~high, 1), else_=0).sum(),
        )
        .order_by("l_shipmode")
    )


def q13(customer: Expr, orders: Expr) -> Expr:
    ibis = _ibis()
    o = orders.filter(~orders.o_comment.like("%special%requests%"))
    q = customer.left_join(o, customer.c_custkey == o.o_custkey)
    counts = q.group_by("c_custkey").aggregate(c_count=q.o_orderkey.count())
    return (
        counts.group_by("c_count")
        .aggregate(custdist=counts.count())
        .order_by([ibis.desc("custdist"), ibis.desc("c_count")])
    )


def q14(lineitem: Expr, part: Expr) -> Expr:
    ibis = _ibis()
    q = lineitem.filter(
        (lineitem.l_shipdate >= _date("1995-09-01")) & (lineitem.l_shipdate < _date("1995-10-01"))
    ).join(part, lineitem.l_partkey == part.p_partkey)
    revenue = q.l_extendedprice * (1 - q.l_discount)
    promo = ibis.cases((q.p_type.like("PROMO%"), revenue), else_=0)
    return q.aggregate(promo_revenue=promo.sum() * 100 / revenue.sum())


def q15(lineitem: Expr, supplier: Expr) -> Expr:
    li = lineitem.filter(
        (lineitem.l_shipdate >= _date("1996-01-01")) & (lineitem.l_shipdate < _date("1996-04-01"))
    )
    revenue = li.group_by(supplier_no=li.l_suppkey).aggregate(
        total_revenue=(li.l_extendedprice * (1 - li.l_discount)).sum()
    )
    q = supplier.join(revenue, supplier.s_suppkey == revenue.supplier_no)
    q = q.filter(q.total_revenue == revenue.total_revenue.max().as_scalar())
    return q.select("s_suppkey", "s_name", "s_address", "s_phone", "total_revenue").order_by(
        "s_suppkey"
    )


def q16(partsupp: Expr, part: Expr, supplier: Expr) -> Expr:
    ibis = _ibis()
    complaints = supplier.filter(supplier.s_comment.like("%Customer%Complaints%"))
    q = partsupp.join(part, part.p_partkey == partsupp.ps_partkey)
    q = q.filter(
        (q.p_brand != "Brand#45")
        & ~q.p_type.like("MEDIUM POLISHED%")
        & q.p_size.isin([49, 14, 23, 45, 19, 3, 36, 9])
        & ~q.ps_suppkey.isin(complaints.s_suppkey)
    )
    return (
        q.group_by(["p_brand", "p_type", "p_size"])
        .aggregate(supplier_cnt=q.ps_suppkey.nunique())
        .order_by([ibis.desc("supplier_cnt"), "p_brand", "p_type", "p_size"])
    )


def q17(lineitem: Expr, part: Expr) -> Expr:
    per_part = lineitem.group_by(a_partkey=lineitem.l_partkey).aggregate(
        limit_qty=0.2 * lineitem.l_quantity.mean()
    )
    p = part.filter((part.p_brand == "Brand#23") & (part.p_container == "MED BOX"))
    q = (
        lineitem.join(p, p.p_partkey == lineitem.l_partkey)
        .join(per_part, per_part.a_partkey == p.p_partkey)
        .filter(lambda t: t.l_quantity < t.limit_qty)
    )
    return q.aggregate(avg_yearly=q.l_extendedprice.sum() / 7.0)


def q18(customer: Expr, orders: Expr, lineitem: Expr) -> Expr:
    ibis = _ibis()
    big = lineitem.group_by("l_orderkey").aggregate(qty=lineitem.l_quantity.sum())
    big = big.filter(big.qty > 300)
    q = (
        customer.join(orders, customer.c_custkey == orders.o_custkey)
        .join(lineitem, orders.o_orderkey == lineitem.l_orderkey)
        .filter(lambda t: t.o_orderkey.isin(big.l_orderkey))
    )
    return (
        q.group_by(["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice"])
        .aggregate(sum_qty=q.l_quantity.sum())
        .order_by([ibis.desc("o_totalprice"), "o_orderdate", "o_orderkey"])
        .limit(100)
    )


def q19(lineitem: Expr, part: Expr) -> Expr:
    q = lineitem.join(part, part.p_partkey == lineitem.l_partkey)
    common = q.l_shipmode.isin(["AIR", "AIR REG"]) & (q.l_shipinstruct == "DELIVER IN PERSON")

    def branch(brand: str, containers: list[str], low: int, high: int, size: int) -> Any:
        return (
            (q.p_brand == brand)
            & q.p_container.isin(containers)
            & q.l_quantity.between(low, high)
            & q.p_size.between(1, size)
            & common
        )

    q = q.filter(
        branch("Brand#12", ["SM CASE", "SM BOX", "SM PACK", "SM PKG"], 1, 11, 5)
        | branch("Brand#23", ["MED BAG", "MED BOX", "MED PKG", "MED PACK"], 10, 20, 10)
        | branch("Brand#34", ["LG CASE", "LG BOX", "LG PACK", "LG PKG"], 20, 30, 15)
    )
    return q.aggregate(revenue=(q.l_extendedprice * (1 - q.l_discount)).sum())


def q20(supplier: Expr, nation: Expr, partsupp: Expr, part: Expr, lineitem: Expr) -> Expr:
    li = lineitem.filter(
        (lineitem.l_shipdate >= _date("1994-01-01")) & (lineitem.l_shipdate < _date("1995-01-01"))
    )
    shipped = li.group_by(a_partkey=li.l_partkey, a_suppkey=li.l_suppkey).aggregate(
        half_qty=0.5 * li.l_quantity.sum()
    )
    forest = part.filter(part.p_name.like("forest%"))
    ps = partsupp.filter(partsupp.ps_partkey.isin(forest.p_partkey))
    ps = ps.join(
        shipped, (ps.ps_partkey == shipped.a_partkey) & (ps.ps_suppkey == shipped.a_suppkey)
    ).filter(lambda t: t.ps_availqty > t.half_qty)
    q = supplier.join(nation, supplier.s_nationkey == nation.n_nationkey).filter(
        lambda t: (t.n_name == "CANADA") & t.s_suppkey.isin(ps.ps_suppkey)
    )
    return q.select("s_name", "s_address").order_by("s_name")


def q21(supplier: Expr, lineitem: Expr, orders: Expr, nation: Expr) -> Expr:
    ibis = _ibis()
    l1 = lineitem
    l2 = lineitem.view()
    l3 = lineitem.view()
    q = (
        supplier.join(l1, supplier.s_suppkey == l1.l_suppkey)
        .join(orders.filter(orders.o_orderstatus == "F"), orders.o_orderkey == l1.l_orderkey)
        .join(
            nation.filter(nation.n_name == "SAUDI ARABIA"),
            supplier.s_nationkey == nation.n_nationkey,
        )
    )
    q = q.filter(q.l_receiptdate > q.l_commitdate)
    q = q.filter(
        ((l2.l_orderkey == q.l_orderkey) & (l2.l_suppkey != q.l_suppkey)).any(),
        ~(
            (l3.l_orderkey == q.l_orderkey)
            & (l3.l_suppkey != q.l_suppkey)
            & (l3.l_receiptdate > l3.l_commitdate)
        ).any(),
    )
    return (
        q.group_by("s_name")
        .aggregate(numwait=q.count())
        .order_by([ibis.desc("numwait"), "s_name"])
        .limit(100)
    )


def q22(customer: Expr, orders: Expr) -> Expr:
    codes = ["13", "31", "23", "29", "30", "18", "17"]
    c = customer.mutate(cntrycode=customer.c_phone.substr(0, 2))
    avg_balance = c.filter((c.c_acctbal > 0.0) & c.cntrycode.isin(codes)).c_acctbal.mean()
    custsale = c.filter(
        c.cntrycode.isin(codes)
        & (c.c_acctbal > avg_balance.as_scalar())
        & ~c.c_custkey.isin(orders.o_custkey)
    )
    return (
        custsale.group_by("cntrycode")
        .aggregate(numcust=custsale.count(), totacctbal=custsale.c_acctbal.sum())
        .order_by("cntrycode")
    )


QUERIES: dict[str, Callable[..., Expr]] = {
    name: fn for name, fn in dict(globals()).items() if name[0] == "q" and name[1:].isdigit()
}


def tables_of(name: str) -> list[str]:
    """The tables query `name` takes, in parameter order."""
    return list(inspect.signature(QUERIES[name]).parameters)
