-- connect: create the database
IF DB_ID(N'db') IS NULL CREATE DATABASE [db]
-- setup: read the metadata columns
SELECT TABLE_NAME, COLUMN_NAME, CASE WHEN DATA_TYPE IN ('decimal', 'numeric') THEN DATA_TYPE + '(' + CAST(NUMERIC_PRECISION AS VARCHAR(3)) + ', ' + CAST(NUMERIC_SCALE AS VARCHAR(3)) + ')' WHEN DATA_TYPE = 'float' AND NUMERIC_PRECISION = 53 THEN 'double precision' WHEN DATA_TYPE IN ('text', 'ntext', 'image', 'xml') THEN DATA_TYPE WHEN CHARACTER_MAXIMUM_LENGTH = -1 THEN DATA_TYPE + '(max)' WHEN NOT CHARACTER_MAXIMUM_LENGTH IS NULL THEN DATA_TYPE + '(' + CAST(CHARACTER_MAXIMUM_LENGTH AS VARCHAR(10)) + ')' ELSE DATA_TYPE END FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'tdg_tabledag_metadata' AND TABLE_NAME IN ('stages', 'tables', 'tasks', 'runs') ORDER BY TABLE_NAME, ORDINAL_POSITION
-- setup: create the metadata schema
IF NOT EXISTS (SELECT * FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'tdg_tabledag_metadata') EXEC('CREATE SCHEMA [tdg_tabledag_metadata]')
-- setup: create the metadata tables
CREATE TABLE [tdg_tabledag_metadata].[stages] ([stage] NVARCHAR(MAX) NOT NULL, [generation] BIGINT NOT NULL, [committed_at] DATETIME2)
CREATE TABLE [tdg_tabledag_metadata].[tables] ([stage] NVARCHAR(MAX) NOT NULL, [key] NVARCHAR(MAX) NOT NULL, [name] NVARCHAR(MAX) NOT NULL, [view_name] NVARCHAR(MAX) NOT NULL, [physical] NVARCHAR(MAX) NOT NULL, [generation] BIGINT NOT NULL, [created_at] DATETIME2, [columns] NVARCHAR(MAX), [fingerprint] NVARCHAR(MAX), [sql] NVARCHAR(MAX))
CREATE TABLE [tdg_tabledag_metadata].[tasks] ([stage] NVARCHAR(MAX) NOT NULL, [task] NVARCHAR(MAX) NOT NULL, [task_key] NVARCHAR(MAX) NOT NULL, [outputs] NVARCHAR(MAX) NOT NULL, [inputs] NVARCHAR(MAX) NOT NULL, [generation] BIGINT NOT NULL, [created_at] DATETIME2)
CREATE TABLE [tdg_tabledag_metadata].[runs] ([run_id] NVARCHAR(MAX) NOT NULL, [flow] NVARCHAR(MAX) NOT NULL, [started_at] DATETIME2 NOT NULL, [duration_ms] BIGINT NOT NULL, [outcome] NVARCHAR(MAX) NOT NULL, [record] NVARCHAR(MAX) NOT NULL)
-- setup: upgrade an older metadata schema
ALTER TABLE [tdg_tabledag_metadata].[tables] ADD [sql] NVARCHAR(MAX)
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
CREATE TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ([id] BIGINT, [key] NVARCHAR(MAX), [small] SMALLINT, [count] INTEGER, [ratio] FLOAT, [score] FLOAT, [flag] BIT, [day] DATE, [at] DATETIME2, [at_utc] DATETIMEOFFSET, [amount] NUMERIC(18, 4), [payload] VARBINARY(MAX))
CREATE OR ALTER VIEW [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa__load] AS SELECT [id] AS [c0], [key] AS [c1], [small] AS [c2], [count] AS [c3], [ratio] AS [c4], [score] AS [c5], [flag] AS [c6], [day] AS [c7], [at] AS [c8], [at_utc] AS [c9], [amount] AS [c10], [payload] AS [c11] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa]
-- write: CTAS of a query
SELECT [id], [key], [amount] INTO [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1
-- write: primary key
DECLARE @sql NVARCHAR(MAX) = N''; SELECT @sql = @sql + N'ALTER TABLE ' + N'[tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]' + N' ALTER COLUMN ' + QUOTENAME(c.[name]) + N' ' + TYPE_NAME(c.user_type_id) + CASE WHEN TYPE_NAME(c.user_type_id) IN ('nvarchar', 'nchar') THEN N'(' + CASE WHEN c.max_length = -1 THEN N'450' ELSE CAST(c.max_length / 2 AS NVARCHAR(10)) END + N')' WHEN TYPE_NAME(c.user_type_id) IN ('varchar', 'char', 'varbinary', 'binary') THEN N'(' + CASE WHEN c.max_length = -1 THEN N'900' ELSE CAST(c.max_length AS NVARCHAR(10)) END + N')' WHEN TYPE_NAME(c.user_type_id) IN ('decimal', 'numeric') THEN N'(' + CAST(c.precision AS NVARCHAR(10)) + N', ' + CAST(c.scale AS NVARCHAR(10)) + N')' WHEN TYPE_NAME(c.user_type_id) IN ('datetime2', 'datetimeoffset', 'time') THEN N'(' + CAST(c.scale AS NVARCHAR(10)) + N')' ELSE N'' END + N' NOT NULL' + N'; ' FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N'[tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]') AND c.[name] IN (N'id'); EXEC sp_executesql @sql
ALTER TABLE [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] ADD PRIMARY KEY ([id])
-- write: index
DECLARE @sql NVARCHAR(MAX) = N''; SELECT @sql = @sql + N'ALTER TABLE ' + N'[tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]' + N' ALTER COLUMN ' + QUOTENAME(c.[name]) + N' ' + TYPE_NAME(c.user_type_id) + CASE WHEN TYPE_NAME(c.user_type_id) IN ('nvarchar', 'nchar') THEN N'(' + CASE WHEN c.max_length = -1 THEN N'450' ELSE CAST(c.max_length / 2 AS NVARCHAR(10)) END + N')' WHEN TYPE_NAME(c.user_type_id) IN ('varchar', 'char', 'varbinary', 'binary') THEN N'(' + CASE WHEN c.max_length = -1 THEN N'900' ELSE CAST(c.max_length AS NVARCHAR(10)) END + N')' WHEN TYPE_NAME(c.user_type_id) IN ('decimal', 'numeric') THEN N'(' + CAST(c.precision AS NVARCHAR(10)) + N', ' + CAST(c.scale AS NVARCHAR(10)) + N')' WHEN TYPE_NAME(c.user_type_id) IN ('datetime2', 'datetimeoffset', 'time') THEN N'(' + CAST(c.scale AS NVARCHAR(10)) + N')' ELSE N'' END + CASE WHEN c.is_nullable = 1 THEN N' NULL' ELSE N' NOT NULL' END + N'; ' FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N'[tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]') AND c.[name] IN (N'id', N'key') AND c.max_length = -1; EXEC sp_executesql @sql
CREATE INDEX [orders__bbbbbbbbbbbbbbbb_idx0] ON [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]([id], [key])
-- write: CTAS of rendered SQL
SELECT [key], SUM([amount]) AS [total] INTO [tdg_raw__data].[totals__cccccccccccccccc] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] GROUP BY [key]
-- write: CTAS of raw SQL with a CTE
WITH [r] AS (SELECT [id] AS [id], [key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] < 3) SELECT * INTO [tdg_raw__data].[recent__dddddddddddddddd] FROM [r]
-- output: ibis join + aggregate
SELECT [t4].[key], COUNT_BIG(*) AS [n], SUM([t4].[amount_right]) AS [total], MAX([t4].[score]) AS [top] INTO [tdg_raw__data].[out0__0000000000000000] FROM (SELECT [t2].[id] AS [id], [t2].[key] AS [key], [t2].[count] AS [count], [t2].[score] AS [score], [t2].[day] AS [day], [t2].[at] AS [at], [t2].[amount] AS [amount], [t3].[key] AS [key_right], [t3].[amount] AS [amount_right] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] AS [t2] INNER JOIN [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] AS [t3] ON [t2].[id] = [t3].[id]) AS [t4] GROUP BY [t4].[key]
-- output: ibis window functions
SELECT [t0].[id], [t0].[key], ROW_NUMBER() OVER (PARTITION BY [t0].[key] ORDER BY CASE WHEN [t0].[id] IS NULL THEN 1 ELSE 0 END, [t0].[id] ASC) - 1 AS [rank], LAG([t0].[score]) OVER (PARTITION BY [t0].[key] ORDER BY CASE WHEN [t0].[id] IS NULL THEN 1 ELSE 0 END, [t0].[id] ASC) AS [previous], SUM([t0].[score]) OVER (PARTITION BY [t0].[key] ORDER BY CASE WHEN [t0].[id] IS NULL THEN 1 ELSE 0 END, [t0].[id] ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS [running] INTO [tdg_raw__data].[out1__0000000000000001] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] AS [t0]
-- output: ibis casts
SELECT CAST([t0].[id] AS VARCHAR(MAX)) AS [id_text], CAST([t0].[count] AS BIGINT) AS [count_big], CAST([t0].[score] AS NUMERIC(10, 2)) AS [score_dec], CAST([t0].[amount] AS FLOAT) AS [amount_float], CAST([t0].[day] AS VARCHAR(MAX)) AS [day_text] INTO [tdg_raw__data].[out2__0000000000000002] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] AS [t0]
-- output: ibis dates
SELECT [t0].[id], DATEPART(year, [t0].[at]) AS [year], DATETRUNC(MONTH, [t0].[at]) AS [month], DATEADD(DAY, CAST('1' AS BIGINT), [t0].[day]) AS [next_day], DATEPART(WEEKDAY, [t0].[day]) - 1 AS [weekday], CAST([t0].[at] AS DATE) AS [date_of] INTO [tdg_raw__data].[out3__0000000000000003] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] AS [t0]
-- output: ibis order + limit
SELECT TOP 2 [t0].[id], [t0].[key], [t0].[count], [t0].[score], [t0].[day], [t0].[at], [t0].[amount] INTO [tdg_raw__data].[out4__0000000000000004] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] AS [t0] ORDER BY [t0].[score] DESC, CASE WHEN [t0].[id] IS NULL THEN 1 ELSE 0 END, [t0].[id] ASC
-- output: ibis union
SELECT * INTO [tdg_raw__data].[out5__0000000000000005] FROM (SELECT * FROM (SELECT [t0].[key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] AS [t0]) AS [t2] UNION SELECT * FROM (SELECT [t1].[key] AS [key] FROM [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] AS [t1]) AS [t3]) AS [q]
-- output: SQLAlchemy join + group by
SELECT tdg_raw__data.frame__aaaaaaaaaaaaaaaa.[key], COUNT(*) AS n INTO [tdg_raw__data].[out6__0000000000000006] FROM tdg_raw__data.frame__aaaaaaaaaaaaaaaa JOIN tdg_raw__data.orders__bbbbbbbbbbbbbbbb ON tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id = tdg_raw__data.orders__bbbbbbbbbbbbbbbb.id WHERE tdg_raw__data.frame__aaaaaaaaaaaaaaaa.amount > 0 GROUP BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.[key] ORDER BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.[key]
-- output: SQLAlchemy order + limit
SELECT TOP 2 tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id, tdg_raw__data.frame__aaaaaaaaaaaaaaaa.[key] INTO [tdg_raw__data].[out7__0000000000000007] FROM tdg_raw__data.frame__aaaaaaaaaaaaaaaa ORDER BY tdg_raw__data.frame__aaaaaaaaaaaaaaaa.id DESC
-- output: SQL text
SELECT [key], COUNT(*) AS [n] INTO [tdg_raw__data].[out8__0000000000000008] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [day] >= CAST('2024-01-01' AS DATE) GROUP BY [key]
-- output: RawSql with a comment
SELECT [id] INTO [tdg_raw__data].[out9__0000000000000009] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE NOT [id] IS NULL /* a trailing comment */
-- read: one input's columns
SELECT COLUMN_NAME, CASE WHEN DATA_TYPE IN ('decimal', 'numeric') THEN DATA_TYPE + '(' + CAST(NUMERIC_PRECISION AS VARCHAR(3)) + ', ' + CAST(NUMERIC_SCALE AS VARCHAR(3)) + ')' WHEN DATA_TYPE = 'float' AND NUMERIC_PRECISION = 53 THEN 'double precision' WHEN DATA_TYPE IN ('text', 'ntext', 'image', 'xml') THEN DATA_TYPE WHEN CHARACTER_MAXIMUM_LENGTH = -1 THEN DATA_TYPE + '(max)' WHEN NOT CHARACTER_MAXIMUM_LENGTH IS NULL THEN DATA_TYPE + '(' + CAST(CHARACTER_MAXIMUM_LENGTH AS VARCHAR(10)) + ')' ELSE DATA_TYPE END FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'tdg_raw__data' AND TABLE_NAME IN ('totals__cccccccccccccccc') ORDER BY TABLE_NAME, ORDINAL_POSITION
-- commit: read new tables' columns
SELECT TABLE_NAME, COLUMN_NAME, CASE WHEN DATA_TYPE IN ('decimal', 'numeric') THEN DATA_TYPE + '(' + CAST(NUMERIC_PRECISION AS VARCHAR(3)) + ', ' + CAST(NUMERIC_SCALE AS VARCHAR(3)) + ')' WHEN DATA_TYPE = 'float' AND NUMERIC_PRECISION = 53 THEN 'double precision' WHEN DATA_TYPE IN ('text', 'ntext', 'image', 'xml') THEN DATA_TYPE WHEN CHARACTER_MAXIMUM_LENGTH = -1 THEN DATA_TYPE + '(max)' WHEN NOT CHARACTER_MAXIMUM_LENGTH IS NULL THEN DATA_TYPE + '(' + CAST(CHARACTER_MAXIMUM_LENGTH AS VARCHAR(10)) + ')' ELSE DATA_TYPE END FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'tdg_raw__data' AND TABLE_NAME IN ('frame__aaaaaaaaaaaaaaaa') ORDER BY TABLE_NAME, ORDINAL_POSITION
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
-- record the run
INSERT INTO [tdg_tabledag_metadata].[runs] VALUES ('ab12cd', 'flow', CAST('2024-05-06 07:08:09.000010' AS DATETIME2), 1500, 'successful', '{"tasks": [], "it''s": 1}')
-- read the last runs
SELECT TOP 20 [run_id], [flow], [duration_ms], [outcome], [record] FROM [tdg_tabledag_metadata].[runs] WHERE [run_id] LIKE 'ab12%' ORDER BY [started_at] DESC
-- cleanup: drop an unreferenced table
DROP TABLE IF EXISTS [tdg_raw__data].[old__eeeeeeeeeeeeeeee]
-- drop the views
DROP VIEW IF EXISTS [tdg_raw].[frame]
DROP VIEW IF EXISTS [tdg_raw].[orders]
-- drop a schema
DROP SCHEMA IF EXISTS [tdg_raw]
-- lock: run lease (shared)
DECLARE @status INT; EXEC @status = sp_getapplock @Resource = N'tabledag_bf57a700388fdad3', @LockMode = 'Shared', @LockOwner = 'Session', @LockTimeout = 0; SELECT CASE WHEN @status >= 0 THEN 1 ELSE 0 END
DECLARE @status INT; EXEC @status = sp_getapplock @Resource = N'tabledag_bf57a700388fdad3', @LockMode = 'Shared', @LockOwner = 'Session', @LockTimeout = 5000; IF @status < 0 RAISERROR('tabledag: application lock not granted (status %d)', 16, 1, @status)
SELECT s.session_id, s.program_name, c.client_net_address, s.host_name, s.login_time FROM sys.dm_tran_locks AS l JOIN sys.dm_exec_sessions AS s ON s.session_id = l.request_session_id LEFT JOIN sys.dm_exec_connections AS c ON c.session_id = s.session_id WHERE l.resource_type = 'APPLICATION' AND l.request_status = 'GRANT' AND l.resource_database_id = DB_ID() AND CHARINDEX(N':[tabledag_bf57a700388fdad3]:', l.resource_description) > 0
EXEC sp_releaseapplock @Resource = N'tabledag_bf57a700388fdad3', @LockOwner = 'Session'
-- lock: stage
DECLARE @status INT; EXEC @status = sp_getapplock @Resource = N'tabledag_d1f148d76299aee4', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 0; SELECT CASE WHEN @status >= 0 THEN 1 ELSE 0 END
DECLARE @status INT; EXEC @status = sp_getapplock @Resource = N'tabledag_d1f148d76299aee4', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 5000; IF @status < 0 RAISERROR('tabledag: application lock not granted (status %d)', 16, 1, @status)
SELECT s.session_id, s.program_name, c.client_net_address, s.host_name, s.login_time FROM sys.dm_tran_locks AS l JOIN sys.dm_exec_sessions AS s ON s.session_id = l.request_session_id LEFT JOIN sys.dm_exec_connections AS c ON c.session_id = s.session_id WHERE l.resource_type = 'APPLICATION' AND l.request_status = 'GRANT' AND l.resource_database_id = DB_ID() AND CHARINDEX(N':[tabledag_d1f148d76299aee4]:', l.resource_description) > 0
EXEC sp_releaseapplock @Resource = N'tabledag_d1f148d76299aee4', @LockOwner = 'Session'
