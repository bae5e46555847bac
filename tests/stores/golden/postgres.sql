-- setup: read the metadata columns
SELECT c.relname, a.attname, FORMAT_TYPE(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute AS a JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid WHERE n.nspname = 'tdg_tabledag_metadata' AND c.relname IN ('stages', 'tables', 'tasks') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum
-- setup: create the metadata schema
CREATE SCHEMA IF NOT EXISTS "tdg_tabledag_metadata"
-- setup: create the metadata tables
CREATE TABLE "tdg_tabledag_metadata"."stages" ("stage" TEXT NOT NULL, "generation" BIGINT NOT NULL, "committed_at" TIMESTAMP)
CREATE TABLE "tdg_tabledag_metadata"."tables" ("stage" TEXT NOT NULL, "key" TEXT NOT NULL, "name" TEXT NOT NULL, "view_name" TEXT NOT NULL, "physical" TEXT NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMP, "columns" TEXT, "fingerprint" TEXT, "sql" TEXT)
CREATE TABLE "tdg_tabledag_metadata"."tasks" ("stage" TEXT NOT NULL, "task" TEXT NOT NULL, "task_key" TEXT NOT NULL, "outputs" TEXT NOT NULL, "inputs" TEXT NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMP)
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
-- cleanup: drop an unreferenced table
DROP TABLE IF EXISTS "tdg_raw__data"."old__eeeeeeeeeeeeeeee"
-- drop a view
DROP VIEW IF EXISTS "tdg_raw"."frame"
-- drop a schema
DROP SCHEMA IF EXISTS "tdg_raw" CASCADE
