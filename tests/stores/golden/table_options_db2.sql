-- arrow: create the table, with the option set's properties
CREATE TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ("id" BIGINT, "key" VARCHAR(32672), "small" SMALLINT, "count" INTEGER, "ratio" REAL, "score" DOUBLE, "flag" BOOLEAN, "day" DATE, "at" TIMESTAMP, "at_utc" TIMESTAMP, "amount" DECIMAL(18, 4), "payload" VARBINARY(32672))
-- arrow: a type_map column
ALTER TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ALTER COLUMN "key" SET DATA TYPE VARCHAR(20)
-- arrow: NOT NULL
ALTER TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ALTER COLUMN "id" SET NOT NULL
CALL SYSPROC.ADMIN_CMD('REORG TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"')
-- arrow: after the rows
-- query: an empty table, with the option set's properties
CREATE TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS (SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1) WITH NO DATA
-- query: a type_map column
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ALTER COLUMN "key" SET DATA TYPE VARCHAR(20)
-- query: NOT NULL
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ALTER COLUMN "id" SET NOT NULL
CALL SYSPROC.ADMIN_CMD('REORG TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"')
-- query: the rows
INSERT INTO "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1
-- query: after the rows
-- raw SQL with a CTE: an empty table
CREATE TABLE "tdg_raw__data"."recent__dddddddddddddddd" AS (SELECT * FROM (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) AS "r") WITH NO DATA
-- raw SQL with a CTE: the rows
INSERT INTO "tdg_raw__data"."recent__dddddddddddddddd" WITH "r" AS (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) SELECT * FROM "r"
