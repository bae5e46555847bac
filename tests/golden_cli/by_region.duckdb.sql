-- model.by_region (duckdb)
CREATE TABLE "model"."by_region" AS SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM "raw"."orders" WHERE amount > 10 GROUP BY region ORDER BY total DESC LIMIT 5;

