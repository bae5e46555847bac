"""Cache identity: stable hashes of values, of Arrow data and of SQL."""
