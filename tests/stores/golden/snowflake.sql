-- connect: create the database
-- setup: read the metadata columns
SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'tdg_tabledag_metadata' AND table_name IN ('stages', 'tables', 'tasks') ORDER BY table_name, ordinal_position
-- setup: create the metadata schema
CREATE SCHEMA IF NOT EXISTS "tdg_tabledag_metadata"
-- setup: create the metadata tables
CREATE TABLE "tdg_tabledag_metadata"."stages" ("stage" VARCHAR NOT NULL, "generation" BIGINT NOT NULL, "committed_at" TIMESTAMPNTZ)
CREATE TABLE "tdg_tabledag_metadata"."tables" ("stage" VARCHAR NOT NULL, "key" VARCHAR NOT NULL, "name" VARCHAR NOT NULL, "view_name" VARCHAR NOT NULL, "physical" VARCHAR NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMPNTZ, "columns" VARCHAR, "fingerprint" VARCHAR, "sql" VARCHAR)
CREATE TABLE "tdg_tabledag_metadata"."tasks" ("stage" VARCHAR NOT NULL, "task" VARCHAR NOT NULL, "task_key" VARCHAR NOT NULL, "outputs" VARCHAR NOT NULL, "inputs" VARCHAR NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMPNTZ)
-- setup: upgrade an older metadata schema
ALTER TABLE "tdg_tabledag_metadata"."tables" ADD "sql" VARCHAR
-- begin: read the stage metadata
SELECT "generation" FROM "tdg_tabledag_metadata"."stages" WHERE "stage" = 'raw'
SELECT "key", "name", "view_name", "physical", "generation", "columns", "fingerprint", "sql" FROM "tdg_tabledag_metadata"."tables" WHERE "stage" = 'raw'
SELECT "task", "task_key", "outputs", "inputs", "generation" FROM "tdg_tabledag_metadata"."tasks" WHERE "stage" = 'raw'
-- begin: list the physical tables
SELECT table_name FROM information_schema.tables WHERE table_schema = 'tdg_raw__data' AND table_type = 'BASE TABLE'
-- write: create the data schema
CREATE SCHEMA IF NOT EXISTS "tdg_raw__data"
-- write: drop an orphan of a killed run
DROP TABLE IF EXISTS "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"
-- write: create a table for Arrow data
CREATE TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ("id" BIGINT, "key" VARCHAR, "small" SMALLINT, "count" INT, "ratio" FLOAT, "score" DOUBLE, "flag" BOOLEAN, "day" DATE, "at" TIMESTAMPNTZ, "at_utc" TIMESTAMPTZ, "amount" DECIMAL(18, 4), "payload" VARBINARY, "tags" ARRAY(BIGINT))
-- write: CTAS of a query
CREATE TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1
-- write: primary key
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ADD PRIMARY KEY ("id")
-- write: index
-- write: CTAS of rendered SQL
CREATE TABLE "tdg_raw__data"."totals__cccccccccccccccc" AS SELECT "key", SUM("amount") AS "total" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" GROUP BY "key"
-- write: CTAS of raw SQL with a CTE
CREATE TABLE "tdg_raw__data"."recent__dddddddddddddddd" AS WITH "r" AS (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) SELECT * FROM "r"
-- output: ibis join + aggregate
CREATE TABLE "tdg_raw__data"."out0__0000000000000000" AS SELECT "t4"."key", COUNT(*) AS "n", SUM("t4"."amount_right") AS "total", MAX("t4"."score") AS "top" FROM (SELECT "t2"."id", "t2"."key", "t2"."count", "t2"."score", "t2"."day", "t2"."at", "t2"."amount", "t3"."key" AS "key_right", "t3"."amount" AS "amount_right" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t2" INNER JOIN "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS "t3" ON "t2"."id" = "t3"."id") AS "t4" GROUP BY 1
-- output: ibis window functions
CREATE TABLE "tdg_raw__data"."out1__0000000000000001" AS SELECT "t0"."id", "t0"."key", ROW_NUMBER() OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC) - 1 AS "rank", LAG("t0"."score") OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC) AS "previous", SUM("t0"."score") OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS "running" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0"
-- output: ibis casts
CREATE TABLE "tdg_raw__data"."out2__0000000000000002" AS SELECT CAST("t0"."id" AS VARCHAR) AS "id_text", CAST("t0"."count" AS BIGINT) AS "count_big", CAST("t0"."score" AS DECIMAL(10, 2)) AS "score_dec", CAST("t0"."amount" AS DOUBLE) AS "amount_float", CAST("t0"."day" AS VARCHAR) AS "day_text" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0"
-- output: ibis dates
CREATE TABLE "tdg_raw__data"."out3__0000000000000003" AS SELECT "t0"."id", DATE_PART(year, "t0"."at") AS "year", DATE_TRUNC('MONTH', "t0"."at") AS "month", DATEADD(DAY, '1', "t0"."day") AS "next_day", (DAYOFWEEK("t0"."day") + 6) % 7 AS "weekday", TO_DATE("t0"."at") AS "date_of" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0"
-- output: ibis order + limit
CREATE TABLE "tdg_raw__data"."out4__0000000000000004" AS SELECT * FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0" ORDER BY "t0"."score" DESC NULLS LAST, "t0"."id" ASC LIMIT 2
-- output: ibis union
CREATE TABLE "tdg_raw__data"."out5__0000000000000005" AS SELECT * FROM (SELECT "t0"."key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0") AS "t2" UNION SELECT * FROM (SELECT "t1"."key" FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS "t1") AS "t3"
-- output: SQLAlchemy join + group by
CREATE TABLE "tdg_raw__data"."out6__0000000000000006" AS SELECT tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key, COUNT(*) AS n FROM tdg_raw__data.frame__aaaaaaaaaaaaaaaa JOIN tdg_raw__data.orders__bbbbbbbbbbbbbbbb ON tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id = tdg_raw__data.orders__bbbbbbbbbbbbbbbb.id WHERE tdg_raw__data.frame__aaaaaaaaaaaaaaaa.amount > 0 GROUP BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key ORDER BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key
-- output: SQLAlchemy order + limit
CREATE TABLE "tdg_raw__data"."out7__0000000000000007" AS SELECT tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id, tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key FROM tdg_raw__data.frame__aaaaaaaaaaaaaaaa ORDER BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id DESC LIMIT 2
-- output: SQL text
CREATE TABLE "tdg_raw__data"."out8__0000000000000008" AS SELECT "key", COUNT(*) AS "n" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "day" >= CAST('2024-01-01' AS DATE) GROUP BY "key"
-- output: RawSql with a comment
CREATE TABLE "tdg_raw__data"."out9__0000000000000009" AS SELECT "id" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" IS NOT NULL -- a trailing comment
-- read: one input's columns
SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'tdg_raw__data' AND table_name IN ('totals__cccccccccccccccc') ORDER BY table_name, ordinal_position
-- commit: read new tables' columns
SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'tdg_raw__data' AND table_name IN ('frame__aaaaaaaaaaaaaaaa') ORDER BY table_name, ordinal_position
-- commit: create the stage schema
CREATE SCHEMA IF NOT EXISTS "tdg_raw"
-- commit: prepare the views
DROP SCHEMA IF EXISTS "tdg_raw__next" CASCADE
CREATE SCHEMA IF NOT EXISTS "tdg_raw__next"
CREATE OR REPLACE VIEW "tdg_raw__next"."frame" AS SELECT * FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"
CREATE OR REPLACE VIEW "tdg_raw__next"."orders" AS SELECT * FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"
CREATE OR REPLACE VIEW "tdg_raw__next"."recent" AS SELECT * FROM "tdg_raw__data"."recent__dddddddddddddddd"
CREATE OR REPLACE VIEW "tdg_raw__next"."totals" AS SELECT * FROM "tdg_raw__data"."totals__cccccccccccccccc"
-- commit: read the server clock
-- commit: find older reader snapshots
-- commit (transaction): views
-- commit (transaction): metadata
DELETE FROM "tdg_tabledag_metadata"."stages" WHERE "stage" = 'raw'
INSERT INTO "tdg_tabledag_metadata"."stages" VALUES ('raw', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP))
DELETE FROM "tdg_tabledag_metadata"."tables" WHERE "stage" = 'raw' AND "key" IN ('aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb')
INSERT INTO "tdg_tabledag_metadata"."tables" VALUES ('raw', 'aaaaaaaaaaaaaaaa', 'frame', 'frame', 'frame__aaaaaaaaaaaaaaaa', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP), '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}', NULL, NULL), ('raw', 'bbbbbbbbbbbbbbbb', 'orders', 'orders', 'orders__bbbbbbbbbbbbbbbb', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP), '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}', NULL, 'SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1')
UPDATE "tdg_tabledag_metadata"."tables" SET "generation" = 2 WHERE "stage" = 'raw' AND "key" IN ('dddddddddddddddd', 'cccccccccccccccc')
INSERT INTO "tdg_tabledag_metadata"."tasks" VALUES ('raw', 'load', 'k1', '{"tables": ["frame"]}', '[]', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP))
UPDATE "tdg_tabledag_metadata"."tasks" SET "outputs" = '{"tables": ["orders"]}', "inputs" = '["aaaa"]', "generation" = 2 WHERE "stage" = 'raw' AND ("task" = 'orders' AND "task_key" = 'k2')
UPDATE "tdg_tabledag_metadata"."tasks" SET "generation" = 2 WHERE "stage" = 'raw' AND (("task" = 'totals' AND "task_key" = 'k3') OR ("task" = 'recent' AND "task_key" = 'k4'))
-- commit (transaction): columns learnt from the catalogue
UPDATE "tdg_tabledag_metadata"."tables" SET "columns" = '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}' WHERE "stage" = 'raw' AND "key" = 'dddddddddddddddd'
-- commit: finish the views
ALTER SCHEMA "tdg_raw__next" SWAP WITH "tdg_raw"
DROP SCHEMA IF EXISTS "tdg_raw__next" CASCADE
-- read: a physical table
SELECT * FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" LIMIT 10
-- cleanup: forget old generations
DELETE FROM "tdg_tabledag_metadata"."tables" WHERE "stage" = 'raw' AND "generation" < 1
DELETE FROM "tdg_tabledag_metadata"."tasks" WHERE "stage" = 'raw' AND "generation" < 1
-- cleanup: drop an unreferenced table
DROP TABLE IF EXISTS "tdg_raw__data"."old__eeeeeeeeeeeeeeee"
-- drop the views
DROP VIEW IF EXISTS "tdg_raw"."frame"
DROP VIEW IF EXISTS "tdg_raw"."orders"
-- drop a schema
DROP SCHEMA IF EXISTS "tdg_raw" CASCADE
