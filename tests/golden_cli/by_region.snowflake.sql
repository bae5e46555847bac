-- model.by_region (snowflake)
CREATE TABLE "MODEL"."BY_REGION" AS SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM "RAW"."ORDERS" WHERE amount > 10 GROUP BY region ORDER BY total DESC NULLS LAST LIMIT 5;

