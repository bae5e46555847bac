-- setup: read the metadata columns
SELECT IFF(REGEXP_LIKE(table_name, '^[A-Z_][A-Z0-9_$]*$'), LOWER(table_name), table_name) AS table_name, IFF(REGEXP_LIKE(column_name, '^[A-Z_][A-Z0-9_$]*$'), LOWER(column_name), column_name) AS column_name, data_type FROM information_schema.columns WHERE table_schema = 'TDG_TABLEDAG_METADATA' AND table_name IN ('STAGES', 'TABLES', 'TASKS') ORDER BY table_name, ordinal_position
-- setup: create the metadata schema
CREATE SCHEMA IF NOT EXISTS "TDG_TABLEDAG_METADATA"
-- setup: create the metadata tables
CREATE TABLE "TDG_TABLEDAG_METADATA"."STAGES" ("STAGE" VARCHAR NOT NULL, "GENERATION" BIGINT NOT NULL, "COMMITTED_AT" TIMESTAMPNTZ)
CREATE TABLE "TDG_TABLEDAG_METADATA"."TABLES" ("STAGE" VARCHAR NOT NULL, "KEY" VARCHAR NOT NULL, "NAME" VARCHAR NOT NULL, "VIEW_NAME" VARCHAR NOT NULL, "PHYSICAL" VARCHAR NOT NULL, "GENERATION" BIGINT NOT NULL, "CREATED_AT" TIMESTAMPNTZ, "COLUMNS" VARCHAR, "FINGERPRINT" VARCHAR, "SQL" VARCHAR)
CREATE TABLE "TDG_TABLEDAG_METADATA"."TASKS" ("STAGE" VARCHAR NOT NULL, "TASK" VARCHAR NOT NULL, "TASK_KEY" VARCHAR NOT NULL, "OUTPUTS" VARCHAR NOT NULL, "INPUTS" VARCHAR NOT NULL, "GENERATION" BIGINT NOT NULL, "CREATED_AT" TIMESTAMPNTZ)
-- setup: upgrade an older metadata schema
ALTER TABLE "TDG_TABLEDAG_METADATA"."TABLES" ADD "SQL" VARCHAR
-- begin: read the stage metadata
SELECT "GENERATION" FROM "TDG_TABLEDAG_METADATA"."STAGES" WHERE "STAGE" = 'raw'
SELECT "KEY", "NAME", "VIEW_NAME", "PHYSICAL", "GENERATION", "COLUMNS", "FINGERPRINT", "SQL" FROM "TDG_TABLEDAG_METADATA"."TABLES" WHERE "STAGE" = 'raw'
SELECT "TASK", "TASK_KEY", "OUTPUTS", "INPUTS", "GENERATION" FROM "TDG_TABLEDAG_METADATA"."TASKS" WHERE "STAGE" = 'raw'
-- begin: list the physical tables
SELECT IFF(REGEXP_LIKE(table_name, '^[A-Z_][A-Z0-9_$]*$'), LOWER(table_name), table_name) AS table_name FROM information_schema.tables WHERE table_schema = 'TDG_RAW__DATA' AND table_type = 'BASE TABLE'
-- write: create the data schema
CREATE SCHEMA IF NOT EXISTS "TDG_RAW__DATA"
-- write: drop an orphan of a killed run
DROP TABLE IF EXISTS "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA"
-- write: create a table for Arrow data
CREATE TABLE "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" ("ID" BIGINT, "KEY" VARCHAR, "SMALL" SMALLINT, "COUNT" INT, "RATIO" FLOAT, "SCORE" DOUBLE, "FLAG" BOOLEAN, "DAY" DATE, "AT" TIMESTAMPNTZ, "AT_UTC" TIMESTAMPTZ, "AMOUNT" DECIMAL(18, 4), "PAYLOAD" VARBINARY)
-- write: CTAS of a query
CREATE TABLE "TDG_RAW__DATA"."ORDERS__BBBBBBBBBBBBBBBB" AS SELECT "ID", "KEY", "AMOUNT" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" WHERE "ID" > 1
-- write: primary key
ALTER TABLE "TDG_RAW__DATA"."ORDERS__BBBBBBBBBBBBBBBB" ADD PRIMARY KEY ("ID")
-- write: index
-- write: CTAS of rendered SQL
CREATE TABLE "TDG_RAW__DATA"."TOTALS__CCCCCCCCCCCCCCCC" AS SELECT "KEY", SUM("AMOUNT") AS "TOTAL" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" GROUP BY "KEY"
-- write: CTAS of raw SQL with a CTE
CREATE TABLE "TDG_RAW__DATA"."RECENT__DDDDDDDDDDDDDDDD" AS WITH "R" AS (SELECT "ID", "KEY" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" WHERE "ID" < 3) SELECT * FROM "R"
-- read: one input's columns
SELECT IFF(REGEXP_LIKE(column_name, '^[A-Z_][A-Z0-9_$]*$'), LOWER(column_name), column_name) AS column_name, data_type FROM information_schema.columns WHERE table_schema = 'TDG_RAW__DATA' AND table_name IN ('TOTALS__CCCCCCCCCCCCCCCC') ORDER BY table_name, ordinal_position
-- commit: read new tables' columns
SELECT IFF(REGEXP_LIKE(table_name, '^[A-Z_][A-Z0-9_$]*$'), LOWER(table_name), table_name) AS table_name, IFF(REGEXP_LIKE(column_name, '^[A-Z_][A-Z0-9_$]*$'), LOWER(column_name), column_name) AS column_name, data_type FROM information_schema.columns WHERE table_schema = 'TDG_RAW__DATA' AND table_name IN ('FRAME__AAAAAAAAAAAAAAAA') ORDER BY table_name, ordinal_position
-- commit: create the stage schema
CREATE SCHEMA IF NOT EXISTS "TDG_RAW"
-- commit: prepare the views
DROP SCHEMA IF EXISTS "TDG_RAW__NEXT" CASCADE
CREATE SCHEMA IF NOT EXISTS "TDG_RAW__NEXT"
CREATE OR REPLACE VIEW "TDG_RAW__NEXT"."FRAME" AS SELECT * FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA"
CREATE OR REPLACE VIEW "TDG_RAW__NEXT"."ORDERS" AS SELECT * FROM "TDG_RAW__DATA"."ORDERS__BBBBBBBBBBBBBBBB"
CREATE OR REPLACE VIEW "TDG_RAW__NEXT"."RECENT" AS SELECT * FROM "TDG_RAW__DATA"."RECENT__DDDDDDDDDDDDDDDD"
CREATE OR REPLACE VIEW "TDG_RAW__NEXT"."TOTALS" AS SELECT * FROM "TDG_RAW__DATA"."TOTALS__CCCCCCCCCCCCCCCC"
ALTER SCHEMA "TDG_RAW__NEXT" SWAP WITH "TDG_RAW"
DROP SCHEMA IF EXISTS "TDG_RAW__NEXT" CASCADE
-- commit: read the server clock
-- commit: find older reader snapshots
-- commit (transaction): views
-- commit (transaction): metadata
DELETE FROM "TDG_TABLEDAG_METADATA"."STAGES" WHERE "STAGE" = 'raw'
INSERT INTO "TDG_TABLEDAG_METADATA"."STAGES" VALUES ('raw', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP))
DELETE FROM "TDG_TABLEDAG_METADATA"."TABLES" WHERE "STAGE" = 'raw' AND "KEY" IN ('aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb')
INSERT INTO "TDG_TABLEDAG_METADATA"."TABLES" VALUES ('raw', 'aaaaaaaaaaaaaaaa', 'frame', 'frame', 'frame__aaaaaaaaaaaaaaaa', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP), '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}', NULL, NULL), ('raw', 'bbbbbbbbbbbbbbbb', 'orders', 'orders', 'orders__bbbbbbbbbbbbbbbb', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP), '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}', NULL, 'SELECT "ID", "KEY", "AMOUNT" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" WHERE "ID" > 1')
UPDATE "TDG_TABLEDAG_METADATA"."TABLES" SET "GENERATION" = 2 WHERE "STAGE" = 'raw' AND "KEY" IN ('dddddddddddddddd', 'cccccccccccccccc')
INSERT INTO "TDG_TABLEDAG_METADATA"."TASKS" VALUES ('raw', 'load', 'k1', '{"tables": ["frame"]}', '[]', 2, CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP))
UPDATE "TDG_TABLEDAG_METADATA"."TASKS" SET "OUTPUTS" = '{"tables": ["orders"]}', "INPUTS" = '["aaaa"]', "GENERATION" = 2 WHERE "STAGE" = 'raw' AND ("TASK" = 'orders' AND "TASK_KEY" = 'k2')
UPDATE "TDG_TABLEDAG_METADATA"."TASKS" SET "GENERATION" = 2 WHERE "STAGE" = 'raw' AND (("TASK" = 'totals' AND "TASK_KEY" = 'k3') OR ("TASK" = 'recent' AND "TASK_KEY" = 'k4'))
-- commit (transaction): columns learnt from the catalogue
UPDATE "TDG_TABLEDAG_METADATA"."TABLES" SET "COLUMNS" = '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}' WHERE "STAGE" = 'raw' AND "KEY" = 'dddddddddddddddd'
-- commit: finish the views
-- read: a physical table
SELECT * FROM "TDG_RAW__DATA"."ORDERS__BBBBBBBBBBBBBBBB" LIMIT 10
-- cleanup: forget old generations
DELETE FROM "TDG_TABLEDAG_METADATA"."TABLES" WHERE "STAGE" = 'raw' AND "GENERATION" < 1
DELETE FROM "TDG_TABLEDAG_METADATA"."TASKS" WHERE "STAGE" = 'raw' AND "GENERATION" < 1
-- cleanup: drop an unreferenced table
DROP TABLE IF EXISTS "TDG_RAW__DATA"."OLD__EEEEEEEEEEEEEEEE"
-- drop a view
DROP VIEW IF EXISTS "TDG_RAW"."FRAME"
-- drop a schema
DROP SCHEMA IF EXISTS "TDG_RAW" CASCADE
