-- setup: read the metadata columns
SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'tdg_tabledag_metadata' AND TABLE_NAME IN ('stages', 'tables', 'tasks') ORDER BY TABLE_NAME, ORDINAL_POSITION
-- setup: create the metadata schema
IF NOT EXISTS (SELECT * FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'tdg_tabledag_metadata') EXEC('CREATE SCHEMA [tdg_tabledag_metadata]')
-- setup: create the metadata tables
CREATE TABLE [tdg_tabledag_metadata].[stages] ([stage] VARCHAR(MAX) NOT NULL, [generation] BIGINT NOT NULL, [committed_at] DATETIME2)
CREATE TABLE [tdg_tabledag_metadata].[tables] ([stage] VARCHAR(MAX) NOT NULL, [key] VARCHAR(MAX) NOT NULL, [name] VARCHAR(MAX) NOT NULL, [view_name] VARCHAR(MAX) NOT NULL, [physical] VARCHAR(MAX) NOT NULL, [generation] BIGINT NOT NULL, [created_at] DATETIME2, [columns] VARCHAR(MAX), [fingerprint] VARCHAR(MAX), [sql] VARCHAR(MAX))
CREATE TABLE [tdg_tabledag_metadata].[tasks] ([stage] VARCHAR(MAX) NOT NULL, [task] VARCHAR(MAX) NOT NULL, [task_key] VARCHAR(MAX) NOT NULL, [outputs] VARCHAR(MAX) NOT NULL, [inputs] VARCHAR(MAX) NOT NULL, [generation] BIGINT NOT NULL, [created_at] DATETIME2)
-- setup: upgrade an older metadata schema
ALTER TABLE [tdg_tabledag_metadata].[tables] ADD [sql] VARCHAR(MAX)
-- begin: read the stage metadata
SELECT [generation] FROM [tdg_tabledag_metadata].[stages] WHERE [stage] = 'raw'
SELECT [key], [name], [view_name], [physical], [generation], [columns], [fingerprint], [sql] FROM [tdg_tabledag_metadata].[tables] WHERE [stage] = 'raw'
SELECT [task], [task_key], [outputs], [inputs], [generation] FROM [tdg_tabledag_metadata].[tasks] WHERE [stage] = 'raw'
-- begin: list the physical tables
SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'tdg_raw__data' AND TABLE_TYPE = 'BASE TABLE'
-- write: create the data schema
IF NOT EXISTS (SELECT * FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'tdg_raw__data') EXEC('CREATE SCHEMA [tdg_raw__data]')
-- write: drop an orphan of a killed run
DROP TABLE IF EXISTS [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa]
-- write: create a table for Arrow data
CREATE TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ([id] BIGINT, [key] VARCHAR(MAX), [small] SMALLINT, [count] INTEGER, [ratio] FLOAT, [score] FLOAT, [flag] BIT, [day] DATE, [at] DATETIME2, [at_utc] DATETIMEOFFSET, [amount] NUMERIC(18, 4), [payload] VARBINARY(MAX))
-- write: CTAS of a query
SELECT * INTO [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] FROM (SELECT [id] AS [id], [key] AS [key], [amount] AS [amount] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1) AS [q]
-- write: primary key
ALTER TABLE [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] ADD PRIMARY KEY ([id])
-- write: index
CREATE INDEX [orders__bbbbbbbbbbbbbbbb_idx0] ON [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]([id], [key])
-- write: CTAS of rendered SQL
SELECT * INTO [tdg_raw__data].[totals__cccccccccccccccc] FROM (SELECT [key], SUM([amount]) AS [total] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] GROUP BY [key]) AS [q]
-- write: CTAS of raw SQL with a CTE
WITH [r] AS (SELECT [id] AS [id], [key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] < 3) SELECT * INTO [tdg_raw__data].[recent__dddddddddddddddd] FROM (SELECT * FROM [r]) AS [q]
-- read: one input's columns
SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'tdg_raw__data' AND TABLE_NAME IN ('totals__cccccccccccccccc') ORDER BY TABLE_NAME, ORDINAL_POSITION
-- commit: read new tables' columns
SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'tdg_raw__data' AND TABLE_NAME IN ('frame__aaaaaaaaaaaaaaaa') ORDER BY TABLE_NAME, ORDINAL_POSITION
-- commit: create the stage schema
IF NOT EXISTS (SELECT * FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'tdg_raw') EXEC('CREATE SCHEMA [tdg_raw]')
-- commit: prepare the views
-- commit: read the server clock
-- commit: find older reader snapshots
-- commit (transaction): views
DROP VIEW IF EXISTS [tdg_raw].[old]
CREATE OR ALTER VIEW [tdg_raw].[frame] AS SELECT * FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa]
CREATE OR ALTER VIEW [tdg_raw].[orders] AS SELECT * FROM [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]
-- commit (transaction): metadata
DELETE FROM [tdg_tabledag_metadata].[stages] WHERE [stage] = 'raw'
INSERT INTO [tdg_tabledag_metadata].[stages] VALUES ('raw', 2, CAST('2024-05-06 07:08:09.000010' AS DATETIME2))
DELETE FROM [tdg_tabledag_metadata].[tables] WHERE [stage] = 'raw' AND [key] IN ('aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb')
INSERT INTO [tdg_tabledag_metadata].[tables] VALUES ('raw', 'aaaaaaaaaaaaaaaa', 'frame', 'frame', 'frame__aaaaaaaaaaaaaaaa', 2, CAST('2024-05-06 07:08:09.000010' AS DATETIME2), '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}', NULL, NULL), ('raw', 'bbbbbbbbbbbbbbbb', 'orders', 'orders', 'orders__bbbbbbbbbbbbbbbb', 2, CAST('2024-05-06 07:08:09.000010' AS DATETIME2), '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}', NULL, 'SELECT [id], [key], [amount] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1')
UPDATE [tdg_tabledag_metadata].[tables] SET [generation] = 2 WHERE [stage] = 'raw' AND [key] IN ('dddddddddddddddd', 'cccccccccccccccc')
INSERT INTO [tdg_tabledag_metadata].[tasks] VALUES ('raw', 'load', 'k1', '{"tables": ["frame"]}', '[]', 2, CAST('2024-05-06 07:08:09.000010' AS DATETIME2))
UPDATE [tdg_tabledag_metadata].[tasks] SET [outputs] = '{"tables": ["orders"]}', [inputs] = '["aaaa"]', [generation] = 2 WHERE [stage] = 'raw' AND ([task] = 'orders' AND [task_key] = 'k2')
UPDATE [tdg_tabledag_metadata].[tasks] SET [generation] = 2 WHERE [stage] = 'raw' AND (([task] = 'totals' AND [task_key] = 'k3') OR ([task] = 'recent' AND [task_key] = 'k4'))
-- commit (transaction): columns learnt from the catalogue
UPDATE [tdg_tabledag_metadata].[tables] SET [columns] = '{"types": [["id", "BIGINT"], ["key", "VARCHAR"]]}' WHERE [stage] = 'raw' AND [key] = 'dddddddddddddddd'
-- commit: finish the views
-- read: a physical table
SELECT TOP 10 * FROM [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]
-- cleanup: forget old generations
DELETE FROM [tdg_tabledag_metadata].[tables] WHERE [stage] = 'raw' AND [generation] < 1
DELETE FROM [tdg_tabledag_metadata].[tasks] WHERE [stage] = 'raw' AND [generation] < 1
-- cleanup: drop an unreferenced table
DROP TABLE IF EXISTS [tdg_raw__data].[old__eeeeeeeeeeeeeeee]
-- drop a view
DROP VIEW IF EXISTS [tdg_raw].[frame]
-- drop a schema
DROP SCHEMA IF EXISTS [tdg_raw]
