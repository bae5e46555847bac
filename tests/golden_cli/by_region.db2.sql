-- model.by_region (db2)
CREATE TABLE "model"."by_region" AS (SELECT "region", SUM("amount") AS "total", COUNT(*) AS "n" FROM "raw"."orders" WHERE "amount" > 10 GROUP BY "region" ORDER BY "total" DESC NULLS LAST FETCH FIRST 5 ROWS ONLY) WITH NO DATA;
INSERT INTO "model"."by_region" SELECT "region", SUM("amount") AS "total", COUNT(*) AS "n" FROM "raw"."orders" WHERE "amount" > 10 GROUP BY "region" ORDER BY "total" DESC NULLS LAST FETCH FIRST 5 ROWS ONLY;

