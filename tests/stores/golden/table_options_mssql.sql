-- arrow: create the table, with the option set's properties
CREATE TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ([id] BIGINT, [key] VARCHAR(MAX), [small] SMALLINT, [count] INTEGER, [ratio] FLOAT, [score] FLOAT, [flag] BIT, [day] DATE, [at] DATETIME2, [at_utc] DATETIMEOFFSET, [amount] NUMERIC(18, 4), [payload] VARBINARY(MAX))
-- arrow: a type_map column
ALTER TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ALTER COLUMN [key] VARCHAR(20)
-- arrow: NOT NULL
ALTER TABLE [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] ALTER COLUMN [id] BIGINT NOT NULL
-- arrow: after the rows
CREATE CLUSTERED COLUMNSTORE INDEX [frame__aaaaaaaaaaaaaaaa_cci] ON [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa]
-- query: an empty table, with the option set's properties
SELECT * INTO [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] FROM (SELECT * FROM (SELECT [id], [key], [amount] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1) AS [q] WHERE 1 = 0) AS [q]
-- query: a type_map column
ALTER TABLE [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] ALTER COLUMN [key] VARCHAR(20)
-- query: NOT NULL
ALTER TABLE [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] ALTER COLUMN [id] BIGINT NOT NULL
-- query: the rows
INSERT INTO [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb] SELECT [id], [key], [amount] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] > 1
-- query: after the rows
CREATE CLUSTERED COLUMNSTORE INDEX [orders__bbbbbbbbbbbbbbbb_cci] ON [tdg_raw__data].[orders__bbbbbbbbbbbbbbbb]
-- raw SQL with a CTE: an empty table
WITH [r] AS (SELECT [id] AS [id], [key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] < 3) SELECT * INTO [tdg_raw__data].[recent__dddddddddddddddd] FROM (SELECT * FROM (SELECT * FROM [r]) AS [q] WHERE 1 = 0) AS [q]
-- raw SQL with a CTE: the rows
WITH [r] AS (SELECT [id] AS [id], [key] AS [key] FROM [tdg_raw__data].[frame__aaaaaaaaaaaaaaaa] WHERE [id] < 3) INSERT INTO [tdg_raw__data].[recent__dddddddddddddddd] SELECT * FROM [r]
