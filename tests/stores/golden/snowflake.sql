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
-- drop a view
DROP VIEW IF EXISTS "tdg_raw"."frame"
-- drop a schema
DROP SCHEMA IF EXISTS "tdg_raw" CASCADE
