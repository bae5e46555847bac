-- connect: create the database
-- setup: read the metadata columns
SELECT c.relname, a.attname, FORMAT_TYPE(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute AS a JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid WHERE n.nspname = 'tdg_tabledag_metadata' AND c.relname IN ('stages', 'tables', 'tasks', 'runs') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum
-- setup: create the metadata schema
CREATE SCHEMA IF NOT EXISTS "tdg_tabledag_metadata"
-- setup: create the metadata tables
CREATE TABLE "tdg_tabledag_metadata"."stages" ("stage" TEXT NOT NULL, "generation" BIGINT NOT NULL, "committed_at" TIMESTAMP)
CREATE TABLE "tdg_tabledag_metadata"."tables" ("stage" TEXT NOT NULL, "key" TEXT NOT NULL, "name" TEXT NOT NULL, "view_name" TEXT NOT NULL, "physical" TEXT NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMP, "columns" TEXT, "fingerprint" TEXT, "sql" TEXT)
CREATE TABLE "tdg_tabledag_metadata"."tasks" ("stage" TEXT NOT NULL, "task" TEXT NOT NULL, "task_key" TEXT NOT NULL, "outputs" TEXT NOT NULL, "inputs" TEXT NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMP)
CREATE TABLE "tdg_tabledag_metadata"."runs" ("run_id" TEXT NOT NULL, "flow" TEXT NOT NULL, "started_at" TIMESTAMP NOT NULL, "duration_ms" BIGINT NOT NULL, "outcome" TEXT NOT NULL, "record" TEXT NOT NULL)
-- setup: upgrade an older metadata schema
ALTER TABLE "tdg_tabledag_metadata"."tables" ADD COLUMN "sql" TEXT
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
CREATE TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ("id" BIGINT, "key" TEXT, "small" SMALLINT, "count" INT, "ratio" REAL, "score" DOUBLE PRECISION, "flag" BOOLEAN, "day" DATE, "at" TIMESTAMP, "at_utc" TIMESTAMPTZ, "amount" DECIMAL(18, 4), "payload" BYTEA, "tags" BIGINT[])
-- write: CTAS of a query
CREATE TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1
-- write: primary key
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ADD PRIMARY KEY ("id")
-- write: index
CREATE INDEX "orders__bbbbbbbbbbbbbbbb_idx0" ON "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"("id", "key")
-- write: CTAS of rendered SQL
CREATE TABLE "tdg_raw__data"."totals__cccccccccccccccc" AS SELECT "key", SUM("amount") AS "total" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" GROUP BY "key"
-- write: CTAS of raw SQL with a CTE
CREATE TABLE "tdg_raw__data"."recent__dddddddddddddddd" AS WITH "r" AS (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) SELECT * FROM "r"
-- output: ibis join + aggregate
CREATE TABLE "tdg_raw__data"."out0__0000000000000000" AS SELECT "t4"."key", COUNT(*) AS "n", SUM("t4"."amount_right") AS "total", MAX("t4"."score") AS "top" FROM (SELECT "t2"."id", "t2"."key", "t2"."count", "t2"."score", "t2"."day", "t2"."at", "t2"."amount", "t3"."key" AS "key_right", "t3"."amount" AS "amount_right" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t2" INNER JOIN "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS "t3" ON "t2"."id" = "t3"."id") AS "t4" GROUP BY 1
-- output: ibis window functions
CREATE TABLE "tdg_raw__data"."out1__0000000000000001" AS SELECT "t0"."id", "t0"."key", ROW_NUMBER() OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1 AS "rank", LAG("t0"."score") OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS "previous", SUM("t0"."score") OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS "running" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0"
-- output: ibis casts
CREATE TABLE "tdg_raw__data"."out2__0000000000000002" AS SELECT CAST("t0"."id" AS VARCHAR) AS "id_text", CAST("t0"."count" AS BIGINT) AS "count_big", CAST("t0"."score" AS DECIMAL(10, 2)) AS "score_dec", CAST("t0"."amount" AS DOUBLE PRECISION) AS "amount_float", CAST("t0"."day" AS VARCHAR) AS "day_text" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0"
-- output: ibis dates
CREATE TABLE "tdg_raw__data"."out3__0000000000000003" AS SELECT "t0"."id", EXTRACT(year FROM "t0"."at") AS "year", DATE_TRUNC('MONTH', "t0"."at") AS "month", "t0"."day" + INTERVAL '1 DAY' AS "next_day", CAST(EXTRACT('dow' FROM "t0"."day") + 6 AS SMALLINT) % 7 AS "weekday", DATE("t0"."at") AS "date_of" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" AS "t0"
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
SELECT a.attname, FORMAT_TYPE(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute AS a JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid WHERE n.nspname = 'tdg_raw__data' AND c.relname IN ('totals__cccccccccccccccc') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum
-- commit: read new tables' columns
SELECT c.relname, a.attname, FORMAT_TYPE(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute AS a JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid WHERE n.nspname = 'tdg_raw__data' AND c.relname IN ('frame__aaaaaaaaaaaaaaaa') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum
-- commit: create the stage schema
CREATE SCHEMA IF NOT EXISTS "tdg_raw"
-- commit: prepare the views
-- commit: read the server clock
SELECT CLOCK_TIMESTAMP()
-- commit: find older reader snapshots
SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = CURRENT_DATABASE() AND pid <> PG_BACKEND_PID() AND backend_xmin IS NOT NULL AND application_name <> 'tabledag' AND xact_start < CAST('2024-05-06T07:00:00+00:00' AS TIMESTAMPTZ)
-- commit (transaction): views
SET LOCAL lock_timeout = '250ms'
DROP VIEW IF EXISTS "tdg_raw"."old"
DROP VIEW IF EXISTS "tdg_raw"."frame"
CREATE VIEW "tdg_raw"."frame" AS SELECT * FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"
DROP VIEW IF EXISTS "tdg_raw"."orders"
CREATE VIEW "tdg_raw"."orders" AS SELECT * FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"
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
-- read: a physical table
SELECT * FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" LIMIT 10
-- cleanup: forget old generations
DELETE FROM "tdg_tabledag_metadata"."tables" WHERE "stage" = 'raw' AND "generation" < 1
DELETE FROM "tdg_tabledag_metadata"."tasks" WHERE "stage" = 'raw' AND "generation" < 1
-- record the run
INSERT INTO "tdg_tabledag_metadata"."runs" VALUES ('ab12cd', 'flow', CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP), 1500, 'successful', '{"tasks": [], "it''s": 1}')
-- read the last runs
SELECT "run_id", "flow", "duration_ms", "outcome", "record" FROM "tdg_tabledag_metadata"."runs" WHERE "run_id" LIKE 'ab12%' ORDER BY "started_at" DESC NULLS LAST LIMIT 20
-- cleanup: drop an unreferenced table
DROP TABLE IF EXISTS "tdg_raw__data"."old__eeeeeeeeeeeeeeee"
-- drop the views
DROP VIEW IF EXISTS "tdg_raw"."frame"
DROP VIEW IF EXISTS "tdg_raw"."orders"
-- drop a schema
DROP SCHEMA IF EXISTS "tdg_raw" CASCADE
-- lock: run lease (shared)
SELECT pg_try_advisory_lock_shared(-4659071670100698413)
SET lock_timeout = 5000
SELECT pg_advisory_lock_shared(-4659071670100698413)
SET lock_timeout = 0
SELECT a.pid, a.application_name, a.client_addr, a.client_hostname, a.backend_start FROM pg_catalog.pg_locks AS l JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid::bigint = 3210192640 AND l.objid::bigint = 948951763 AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
SELECT pg_advisory_unlock_shared(-4659071670100698413)
-- lock: stage
SELECT pg_try_advisory_lock(-3318791360485937436)
SET lock_timeout = 5000
SELECT pg_advisory_lock(-3318791360485937436)
SET lock_timeout = 0
SELECT a.pid, a.application_name, a.client_addr, a.client_hostname, a.backend_start FROM pg_catalog.pg_locks AS l JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid::bigint = 3522250967 AND l.objid::bigint = 1654238948 AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
SELECT pg_advisory_unlock(-3318791360485937436)
