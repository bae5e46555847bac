-- model.by_region_ibis (postgres)
CREATE TABLE "model"."by_region_ibis" AS SELECT "t1"."region", SUM("t1"."amount") AS "total" FROM (SELECT * FROM "raw"."orders" AS "t0" WHERE "t0"."amount" > 10) AS "t1" GROUP BY 1;

