-- connect: create the database
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
-- output: ibis join + aggregate
CREATE TABLE "TDG_RAW__DATA"."OUT0__0000000000000000" AS SELECT "T4"."KEY", COUNT(*) AS "N", SUM("T4"."AMOUNT_RIGHT") AS "TOTAL", MAX("T4"."SCORE") AS "TOP" FROM (SELECT "T2"."ID", "T2"."KEY", "T2"."COUNT", "T2"."SCORE", "T2"."DAY", "T2"."AT", "T2"."AMOUNT", "T3"."KEY" AS "KEY_RIGHT", "T3"."AMOUNT" AS "AMOUNT_RIGHT" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" AS "T2" INNER JOIN "TDG_RAW__DATA"."ORDERS__BBBBBBBBBBBBBBBB" AS "T3" ON "T2"."ID" = "T3"."ID") AS "T4" GROUP BY 1
-- output: ibis window functions
CREATE TABLE "TDG_RAW__DATA"."OUT1__0000000000000001" AS SELECT "T0"."ID", "T0"."KEY", ROW_NUMBER() OVER (PARTITION BY "T0"."KEY" ORDER BY "T0"."ID" ASC) - 1 AS "RANK", LAG("T0"."SCORE") OVER (PARTITION BY "T0"."KEY" ORDER BY "T0"."ID" ASC) AS "PREVIOUS", SUM("T0"."SCORE") OVER (PARTITION BY "T0"."KEY" ORDER BY "T0"."ID" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS "RUNNING" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" AS "T0"
-- output: ibis casts
CREATE TABLE "TDG_RAW__DATA"."OUT2__0000000000000002" AS SELECT CAST("T0"."ID" AS VARCHAR) AS "ID_TEXT", CAST("T0"."COUNT" AS BIGINT) AS "COUNT_BIG", CAST("T0"."SCORE" AS DECIMAL(10, 2)) AS "SCORE_DEC", CAST("T0"."AMOUNT" AS DOUBLE) AS "AMOUNT_FLOAT", CAST("T0"."DAY" AS VARCHAR) AS "DAY_TEXT" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" AS "T0"
-- output: ibis dates
CREATE TABLE "TDG_RAW__DATA"."OUT3__0000000000000003" AS SELECT "T0"."ID", DATE_PART(year, "T0"."AT") AS "YEAR", DATE_TRUNC('MONTH', "T0"."AT") AS "MONTH", DATEADD(DAY, '1', "T0"."DAY") AS "NEXT_DAY", (DAYOFWEEK("T0"."DAY") + 6) % 7 AS "WEEKDAY", TO_DATE("T0"."AT") AS "DATE_OF" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" AS "T0"
-- output: ibis order + limit
CREATE TABLE "TDG_RAW__DATA"."OUT4__0000000000000004" AS SELECT * FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" AS "T0" ORDER BY "T0"."SCORE" DESC NULLS LAST, "T0"."ID" ASC LIMIT 2
-- output: ibis union
CREATE TABLE "TDG_RAW__DATA"."OUT5__0000000000000005" AS SELECT * FROM (SELECT "T0"."KEY" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" AS "T0") AS "T2" UNION SELECT * FROM (SELECT "T1"."KEY" FROM "TDG_RAW__DATA"."ORDERS__BBBBBBBBBBBBBBBB" AS "T1") AS "T3"
-- output: SQLAlchemy join + group by
CREATE TABLE "TDG_RAW__DATA"."OUT6__0000000000000006" AS SELECT tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key, COUNT(*) AS n FROM tdg_raw__data.frame__aaaaaaaaaaaaaaaa JOIN tdg_raw__data.orders__bbbbbbbbbbbbbbbb ON tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id = tdg_raw__data.orders__bbbbbbbbbbbbbbbb.id WHERE tdg_raw__data.frame__aaaaaaaaaaaaaaaa.amount > 0 GROUP BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key ORDER BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key
-- output: SQLAlchemy order + limit
CREATE TABLE "TDG_RAW__DATA"."OUT7__0000000000000007" AS SELECT tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id, tdg_raw__data.frame__aaaaaaaaaaaaaaaa.key FROM tdg_raw__data.frame__aaaaaaaaaaaaaaaa ORDER BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id DESC LIMIT 2
-- output: SQL text
CREATE TABLE "TDG_RAW__DATA"."OUT8__0000000000000008" AS SELECT "KEY", COUNT(*) AS "N" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" WHERE "DAY" >= CAST('2024-01-01' AS DATE) GROUP BY "KEY"
-- output: RawSql with a comment
CREATE TABLE "TDG_RAW__DATA"."OUT9__0000000000000009" AS SELECT "ID" FROM "TDG_RAW__DATA"."FRAME__AAAAAAAAAAAAAAAA" WHERE "ID" IS NOT NULL -- a trailing comment
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
-- drop the views
DROP VIEW IF EXISTS "TDG_RAW"."FRAME"
DROP VIEW IF EXISTS "TDG_RAW"."ORDERS"
-- drop a schema
DROP SCHEMA IF EXISTS "TDG_RAW" CASCADE
