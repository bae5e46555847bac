-- connect: create the database
-- setup: read the metadata columns
SELECT TABNAME, COLNAME, CASE WHEN TYPENAME IN ('VARCHAR', 'CHARACTER', 'VARBINARY', 'BINARY', 'CLOB', 'BLOB', 'GRAPHIC', 'VARGRAPHIC') THEN TRIM(TYPENAME) || '(' || CAST(LENGTH AS VARCHAR(11)) || ')' WHEN TYPENAME = 'DECIMAL' THEN 'DECIMAL(' || CAST(LENGTH AS VARCHAR(11)) || ', ' || CAST(SCALE AS VARCHAR(11)) || ')' ELSE TYPENAME END FROM SYSCAT.COLUMNS WHERE TABSCHEMA = 'tdg_tabledag_metadata' AND TABNAME IN ('stages', 'tables', 'tasks', 'runs') ORDER BY TABNAME, COLNO
-- setup: create the metadata schema
CREATE SCHEMA "tdg_tabledag_metadata"
-- setup: create the metadata tables
CREATE TABLE "tdg_tabledag_metadata"."stages" ("stage" VARCHAR(32672) NOT NULL, "generation" BIGINT NOT NULL, "committed_at" TIMESTAMP)
CREATE TABLE "tdg_tabledag_metadata"."tables" ("stage" VARCHAR(32672) NOT NULL, "key" VARCHAR(32672) NOT NULL, "name" VARCHAR(32672) NOT NULL, "view_name" VARCHAR(32672) NOT NULL, "physical" VARCHAR(32672) NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMP, "columns" VARCHAR(32672), "fingerprint" VARCHAR(32672), "sql" VARCHAR(32672))
CREATE TABLE "tdg_tabledag_metadata"."tasks" ("stage" VARCHAR(32672) NOT NULL, "task" VARCHAR(32672) NOT NULL, "task_key" VARCHAR(32672) NOT NULL, "outputs" VARCHAR(32672) NOT NULL, "inputs" VARCHAR(32672) NOT NULL, "generation" BIGINT NOT NULL, "created_at" TIMESTAMP)
CREATE TABLE "tdg_tabledag_metadata"."runs" ("run_id" VARCHAR(32672) NOT NULL, "flow" VARCHAR(32672) NOT NULL, "started_at" TIMESTAMP NOT NULL, "duration_ms" BIGINT NOT NULL, "outcome" VARCHAR(32672) NOT NULL, "record" VARCHAR(32672) NOT NULL)
-- setup: upgrade an older metadata schema
ALTER TABLE "tdg_tabledag_metadata"."tables" ADD "sql" VARCHAR(32672)
-- begin: read the stage metadata
SELECT "generation" FROM "tdg_tabledag_metadata"."stages" WHERE "stage" = 'raw'
SELECT "key", "name", "view_name", "physical", "generation", "columns", "fingerprint", "sql" FROM "tdg_tabledag_metadata"."tables" WHERE "stage" = 'raw'
SELECT "task", "task_key", "outputs", "inputs", "generation" FROM "tdg_tabledag_metadata"."tasks" WHERE "stage" = 'raw'
-- begin: list the physical tables
SELECT TABNAME FROM SYSCAT.TABLES WHERE TABSCHEMA = 'tdg_raw__data' AND TYPE = 'T'
-- write: create the data schema
CREATE SCHEMA "tdg_raw__data"
-- write: drop an orphan of a killed run
DROP TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"
-- write: create a table for Arrow data
CREATE TABLE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ("id" BIGINT, "key" VARCHAR(32672), "small" SMALLINT, "count" INTEGER, "ratio" REAL, "score" DOUBLE, "flag" BOOLEAN, "day" DATE, "at" TIMESTAMP, "at_utc" TIMESTAMP, "amount" DECIMAL(18, 4), "payload" VARBINARY(32672))
-- write: CTAS of a query
CREATE TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" AS (SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1) WITH NO DATA
INSERT INTO "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" SELECT "id", "key", "amount" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" > 1
-- write: primary key
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ALTER COLUMN "id" SET NOT NULL
CALL SYSPROC.ADMIN_CMD('REORG TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"')
ALTER TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ADD PRIMARY KEY ("id")
-- write: index
CREATE INDEX "orders__bbbbbbbbbbbbbbbb_idx0" ON "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"("id", "key")
-- write: CTAS of rendered SQL
CREATE TABLE "tdg_raw__data"."totals__cccccccccccccccc" AS (SELECT "key", SUM("amount") AS "total" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" GROUP BY "key") WITH NO DATA
INSERT INTO "tdg_raw__data"."totals__cccccccccccccccc" SELECT "key", SUM("amount") AS "total" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" GROUP BY "key"
-- write: CTAS of raw SQL with a CTE
CREATE TABLE "tdg_raw__data"."recent__dddddddddddddddd" AS (SELECT * FROM (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) AS "r") WITH NO DATA
INSERT INTO "tdg_raw__data"."recent__dddddddddddddddd" WITH "r" AS (SELECT "id", "key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" < 3) SELECT * FROM "r"
-- output: SQLAlchemy join + group by
CREATE TABLE "tdg_raw__data"."out0__0000000000000000" AS (SELECT "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key", COUNT(*) AS "n" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" JOIN "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ON "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."id" = "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"."id" WHERE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."amount" > 0 GROUP BY "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key" ORDER BY "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key") WITH NO DATA
INSERT INTO "tdg_raw__data"."out0__0000000000000000" SELECT "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key", COUNT(*) AS "n" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" JOIN "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" ON "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."id" = "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"."id" WHERE "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."amount" > 0 GROUP BY "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key" ORDER BY "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key"
-- output: SQLAlchemy order + limit
CREATE TABLE "tdg_raw__data"."out1__0000000000000001" AS (SELECT "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."id", "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ORDER BY "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."id" DESC FETCH FIRST 2 ROWS ONLY) WITH NO DATA
INSERT INTO "tdg_raw__data"."out1__0000000000000001" SELECT "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."id", "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."key" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" ORDER BY "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"."id" DESC FETCH FIRST 2 ROWS ONLY
-- output: SQL text
CREATE TABLE "tdg_raw__data"."out2__0000000000000002" AS (SELECT "key", COUNT(*) AS "n" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "day" >= CAST('2024-01-01' AS DATE) GROUP BY "key") WITH NO DATA
INSERT INTO "tdg_raw__data"."out2__0000000000000002" SELECT "key", COUNT(*) AS "n" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "day" >= CAST('2024-01-01' AS DATE) GROUP BY "key"
-- output: RawSql with a comment
CREATE TABLE "tdg_raw__data"."out3__0000000000000003" AS (SELECT "id" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" IS NOT NULL -- a trailing comment\n) WITH NO DATA
INSERT INTO "tdg_raw__data"."out3__0000000000000003" SELECT "id" FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa" WHERE "id" IS NOT NULL -- a trailing comment
-- read: one input's columns
SELECT COLNAME, CASE WHEN TYPENAME IN ('VARCHAR', 'CHARACTER', 'VARBINARY', 'BINARY', 'CLOB', 'BLOB', 'GRAPHIC', 'VARGRAPHIC') THEN TRIM(TYPENAME) || '(' || CAST(LENGTH AS VARCHAR(11)) || ')' WHEN TYPENAME = 'DECIMAL' THEN 'DECIMAL(' || CAST(LENGTH AS VARCHAR(11)) || ', ' || CAST(SCALE AS VARCHAR(11)) || ')' ELSE TYPENAME END FROM SYSCAT.COLUMNS WHERE TABSCHEMA = 'tdg_raw__data' AND TABNAME IN ('totals__cccccccccccccccc') ORDER BY TABNAME, COLNO
-- commit: read new tables' columns
SELECT TABNAME, COLNAME, CASE WHEN TYPENAME IN ('VARCHAR', 'CHARACTER', 'VARBINARY', 'BINARY', 'CLOB', 'BLOB', 'GRAPHIC', 'VARGRAPHIC') THEN TRIM(TYPENAME) || '(' || CAST(LENGTH AS VARCHAR(11)) || ')' WHEN TYPENAME = 'DECIMAL' THEN 'DECIMAL(' || CAST(LENGTH AS VARCHAR(11)) || ', ' || CAST(SCALE AS VARCHAR(11)) || ')' ELSE TYPENAME END FROM SYSCAT.COLUMNS WHERE TABSCHEMA = 'tdg_raw__data' AND TABNAME IN ('frame__aaaaaaaaaaaaaaaa') ORDER BY TABNAME, COLNO
-- commit: create the stage schema
CREATE SCHEMA "tdg_raw"
-- commit: prepare the views
-- commit: read the server clock
-- commit: find older reader snapshots
-- commit (transaction): views
DROP VIEW "tdg_raw"."old"
CREATE OR REPLACE VIEW "tdg_raw"."frame" AS SELECT * FROM "tdg_raw__data"."frame__aaaaaaaaaaaaaaaa"
CREATE OR REPLACE VIEW "tdg_raw"."orders" AS SELECT * FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"
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
SELECT * FROM "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb" FETCH FIRST 10 ROWS ONLY
-- cleanup: forget old generations
DELETE FROM "tdg_tabledag_metadata"."tables" WHERE "stage" = 'raw' AND "generation" < 1
DELETE FROM "tdg_tabledag_metadata"."tasks" WHERE "stage" = 'raw' AND "generation" < 1
-- record the run
INSERT INTO "tdg_tabledag_metadata"."runs" VALUES ('ab12cd', 'flow', CAST('2024-05-06 07:08:09.000010' AS TIMESTAMP), 1500, 'successful', '{"tasks": [], "it''s": 1}')
-- read the last runs
SELECT "run_id", "flow", "duration_ms", "outcome", "record" FROM "tdg_tabledag_metadata"."runs" WHERE "run_id" LIKE 'ab12%' ORDER BY "started_at" DESC NULLS LAST FETCH FIRST 20 ROWS ONLY
-- cleanup: drop an unreferenced table
DROP TABLE "tdg_raw__data"."old__eeeeeeeeeeeeeeee"
-- drop the views
DROP VIEW "tdg_raw"."frame"
DROP VIEW "tdg_raw"."orders"
-- drop a schema
DROP SCHEMA "tdg_raw" RESTRICT
