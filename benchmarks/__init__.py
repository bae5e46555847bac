"""Benchmarks for tabledag.

    python -m benchmarks.<name> [--store duckdb|postgres] [--quick]


Every figure is a median of several repetitions after a warm-up, and is reported as a ratio
against a raw reference measured in the same process, because absolute times on shared 2-core
machines are noisy. `python -m benchmarks.run_all` runs them all and writes
`benchmarks/results/latest.md`.
"""
