-- model.by_region (postgres)
CREATE TABLE "model"."by_region" AS SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM "raw"."orders" WHERE amount > 10 GROUP BY region ORDER BY total DESC NULLS LAST LIMIT 5;

