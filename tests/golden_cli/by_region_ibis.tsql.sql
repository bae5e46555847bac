-- model.by_region_ibis (tsql)
SELECT [t1].[region], SUM([t1].[amount]) AS [total] INTO [model].[by_region_ibis] FROM (SELECT * FROM [raw].[orders] AS [t0] WHERE [t0].[amount] > 10) AS [t1] GROUP BY [t1].[region];

