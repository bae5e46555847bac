-- arrow: create the table, with the option set's properties
CREATE TRANSIENT TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ("id" BIGINT, "key" VARCHAR, "small" SMALLINT, "count" INT, "ratio" FLOAT, "score" DOUBLE, "flag" BOOLEAN, "day" DATE, "at" TIMESTAMPNTZ, "at_utc" TIMESTAMPTZ, "amount" DECIMAL(18, 4), "payload" VARBINARY, "tags" ARRAY(BIGINT))
-- arrow: a type_map column
ALTER TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ALTER COLUMN "key" SET DATA TYPE VARCHAR(20)
-- arrow: NOT NULL
ALTER TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ALTER COLUMN "id" SET NOT NULL
-- arrow: after the rows
-- query: an empty table, with the option set's properties
CREATE TRANSIENT TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS SELECT * FROM (SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1) AS "q" WHERE 1 = 0
-- query: a type_map column
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ALTER COLUMN "key" SET DATA TYPE VARCHAR(20)
-- query: NOT NULL
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ALTER COLUMN "id" SET NOT NULL
-- query: the rows
INSERT INTO "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1
-- query: after the rows
-- raw SQL with a CTE: an empty table
CREATE TRANSIENT TABLE "tdg_raw__data"."recent__dddddddddddddddd" AS SELECT * FROM (WITH "r" AS (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) SELECT * FROM "r") AS "q" WHERE 1 = 0
-- raw SQL with a CTE: the rows
INSERT INTO "tdg_raw__data"."recent__dddddddddddddddd" WITH "r" AS (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) SELECT * FROM "r"
