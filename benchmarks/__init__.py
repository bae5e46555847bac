"""Benchmarks for tabledag.

    python -m benchmarks.<name> [--store duckdb|postgres] [--quick] [--save]
    python -m benchmarks.tiny_tasks --store parquet   # the same flows on a ParquetTableStore
    python -m benchmarks.parquet [--large]            # parquet write/read vs raw pyarrow/polars
    python -m benchmarks.parquet_attach               # attach a 50-table instance from files
    python -m benchmarks.run_all [--store duckdb|postgres|both|parquet|all] [--quick] [--large]

`--quick` is a smoke run (small sizes, few repetitions); `--large` gives frame_load and parquet
5M rows.
Every figure is a median of several repetitions after a warm-up, and is reported as a ratio
against a raw reference measured in the same process, because absolute times on shared 2-core
machines are noisy. Reports print to stdout; only `--save` writes into `benchmarks/results/`
(run_all's `latest.md`, tiny_tasks' full profile), whose files are tracked.
"""
