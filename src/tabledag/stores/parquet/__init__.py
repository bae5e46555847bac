"""ParquetTableStore: parquet files (local or fsspec) with a DuckDB catalogue of views."""

from .store import ParquetTableStore

__all__ = ["ParquetTableStore"]
