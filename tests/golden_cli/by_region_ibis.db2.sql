-- model.by_region_ibis (db2)
CREATE TABLE "model"."by_region_ibis" AS (SELECT "t1"."region", SUM("t1"."amount") AS "total" FROM (SELECT * FROM "raw"."orders" AS "t0" WHERE "t0"."amount" > 10) AS "t1" GROUP BY "t1"."region") WITH NO DATA;
INSERT INTO "model"."by_region_ibis" SELECT "t1"."region", SUM("t1"."amount") AS "total" FROM (SELECT * FROM "raw"."orders" AS "t0" WHERE "t0"."amount" > 10) AS "t1" GROUP BY "t1"."region";

