-- model.by_region (tsql)
SELECT TOP 5 region, SUM(amount) AS total, COUNT_BIG(*) AS n INTO [model].[by_region] FROM [raw].[orders] WHERE amount > 10 GROUP BY region ORDER BY total DESC;

