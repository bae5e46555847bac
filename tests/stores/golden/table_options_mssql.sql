-- arrow: create the table, with the option set's properties
CREATE TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ([id] BIGINT, [key] NVARCHAR(MAX), [small] SMALLINT, [count] INTEGER, [ratio] FLOAT, [score] FLOAT, [flag] BIT, [day] DATE, [at] DATETIME2, [at_utc] DATETIMEOFFSET, [amount] NUMERIC(18, 4), [payload] VARBINARY(MAX))
CREATE OR ALTER VIEW [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa__load] AS SELECT [id] AS [c0], [key] AS [c1], [small] AS [c2], [count] AS [c3], [ratio] AS [c4], [score] AS [c5], [flag] AS [c6], [day] AS [c7], [at] AS [c8], [at_utc] AS [c9], [amount] AS [c10], [payload] AS [c11] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa]
-- arrow: a type_map column
ALTER TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ALTER COLUMN [key] VARCHAR(20)
-- arrow: NOT NULL
ALTER TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ALTER COLUMN [id] BIGINT NOT NULL
-- arrow: after the rows
CREATE CLUSTERED COLUMNSTORE INDEX [frame__aaaaaaaaaaaaaaaa_cci] ON [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa]
-- query: an empty table, with the option set's properties
SELECT * INTO [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] FROM (SELECT [id] AS [id], [key] AS [key], [amount] AS [amount] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1) AS [q] WHERE 1 = 0
-- query: a type_map column
ALTER TABLE [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] ALTER COLUMN [key] VARCHAR(20)
-- query: NOT NULL
ALTER TABLE [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] ALTER COLUMN [id] BIGINT NOT NULL
-- query: the rows
INSERT INTO [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] SELECT [id], [key], [amount] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1
-- query: after the rows
CREATE CLUSTERED COLUMNSTORE INDEX [orders__bbbbbbbbbbbbbbbb_cci] ON [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]
-- raw SQL with a CTE: an empty table
WITH [r] AS (SELECT [id] AS [id], [key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] < 3) SELECT * INTO [tdg_raw__data].[recent__dddddddddddddddd] FROM (SELECT * FROM [r]) AS [q] WHERE 1 = 0
-- raw SQL with a CTE: the rows
WITH [r] AS (SELECT [id] AS [id], [key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] < 3) INSERT INTO [tdg_raw__data].[recent__dddddddddddddddd] SELECT * FROM [r]
