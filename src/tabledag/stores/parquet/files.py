"""Physical tables as parquet files, each shown in the DuckDB catalogue by a view.

`<root>/<stage schema>/<name>__<key16>.parquet` holds the data, written once: eager outputs by
pyarrow straight from Arrow, lazy outputs by DuckDB's `COPY (query) TO ... (FORMAT parquet)`.
`<stage>__data.<name>__<key16>` is a view `SELECT * FROM read_parquet('<file>')`, so lazy
queries, ibis and SQLAlchemy inputs see a table as in any SQL store, while frame inputs read
the file itself. The files are the truth: what exists is what the directory lists.

Primary keys and indexes have no place in a parquet file; they are part of the cache key (a
changed key rewrites the table) but not enforced.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .. import run_files
from ..base import RunRecord, TableFiles
from ..sql.dialect import Verbatim
from ..sql.physical import PhysicalTables, view_over
from ..sql.table_options import NO_OPTIONS, TableOptions
from . import manifest
from .location import GLOB

if TYPE_CHECKING:
    import pyarrow as pa

    from ...outputs import Table
    from ..base import TableRecord, TaskRecord
    from ..sql.session import SQLSession
    from .location import Location

SUFFIX = ".parquet"


def file_stem(physical: str) -> str:
    """A physical table's file name without the suffix: glob characters (which DuckDB would
    expand) and `%` percent-encoded."""
    return "".join(f"%{ord(c):02X}" if c in GLOB or c == "%" else c for c in physical)


def physical_of(stem: str) -> str:
    return urllib.parse.unquote(stem)


class ParquetFiles(PhysicalTables):
    files = True

    def __init__(self, location: Location, fs: Any) -> None:
        self.location = location
        self.fs = fs
        self._made: set[str] = set()
        self.adopted: list[str] = []
        """Stages the last `prepare` adopted from newer manifests."""
        self.synced = False
        """Whether this session adopted the manifests already (the first session of a store
        does when it opens; its run need not again)."""

    # -- names ----------------------------------------------------------------------------------

    def directory(self, session: SQLSession, stage: str) -> str:
        return self.location.path(self._directory_name(session, stage))

    def file(self, session: SQLSession, stage: str, physical: str) -> str:
        return self.location.path(
            self._directory_name(session, stage), file_stem(physical) + SUFFIX
        )

    def url(self, session: SQLSession, stage: str, physical: str) -> str:
        return self.location.url(self._directory_name(session, stage), file_stem(physical) + SUFFIX)

    def _directory_name(self, session: SQLSession, stage: str) -> str:
        return file_stem(session.names.schema(stage))

    def scan(self, session: SQLSession, stage: str, physical: str) -> exp.Expr:
        url = exp.Literal.string(self.url(session, stage, physical))
        return exp.Table(this=exp.ReadParquet(expressions=[url]))

    # -- PhysicalTables -------------------------------------------------------------------------

    def prepare(self, session: SQLSession) -> None:
        from .sync import sync

        if not self.synced:
            self.adopted = sync(session, self)
            self.synced = True

    def present(self, session: SQLSession, stage: str) -> frozenset[str]:
        directory = self.directory(session, stage)
        self.fs.invalidate_cache(directory)  # another process may have written since
        try:
            names = self.fs.ls(directory, detail=False)
        except FileNotFoundError:
            return frozenset()
        return frozenset(n.rsplit("/", 1)[-1][: -len(SUFFIX)] for n in names if n.endswith(SUFFIX))

    def create_from_query(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        sql: str,
        table_: Table,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        self._ensure_directory(session, stage)
        url = self.url(session, stage, target.name)
        copy = exp.Copy(
            this=exp.Subquery(this=Verbatim(this=sql)),
            kind=False,
            files=[exp.Literal.string(url)],
            params=[exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("parquet"))],
        )
        session.execute(copy, phase="write")
        self._show(session, stage, target)

    def create_from_arrow(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        data: pa.Table,
        table_: Table,
        frame: Any = None,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        self._ensure_directory(session, stage)
        path = self.file(session, stage, target.name)
        if type(frame).__module__.split(".")[0] == "polars":
            self._write_polars(frame, path)
        else:
            import pyarrow.parquet as pq

            pq.write_table(data, path, filesystem=self.fs)
        session.store.fault_point("write", f"WRITE {path}")
        self._show(session, stage, target)

    def _write_polars(self, frame: Any, path: str) -> None:
        """A polars frame through polars' own writer, with snappy like every other file of the
        store (pyarrow's and DuckDB's default; polars' own default is zstd, slower to write)."""
        if self.location.is_local:
            frame.write_parquet(path, compression="snappy")
        else:
            with self.fs.open(path, "wb") as file:
                frame.write_parquet(file, compression="snappy")

    def _show(self, session: SQLSession, stage: str, target: exp.Table) -> None:
        view = view_over(target, self.scan(session, stage, target.name))
        view.set("replace", True)
        session.execute(view, phase="write")

    def drop(self, session: SQLSession, stage: str, target: exp.Table, phase: str) -> None:
        """The view first, then the file: a stop in between leaves an orphan file, which the
        directory listing shows and the next cleanup removes."""
        session.execute(session.dialect.drop_view(target), phase=phase)
        path = self.file(session, stage, target.name)
        with contextlib.suppress(FileNotFoundError):  # never written, or deleted before a stop
            self.fs.rm_file(path)
        session.store.fault_point(phase, f"DELETE {path}")

    def read_arrow(
        self, session: SQLSession, stage: str, target: exp.Table, limit: int | None
    ) -> pa.Table:
        import pyarrow.parquet as pq

        path = self.file(session, stage, target.name)
        if limit is None:
            return pq.read_table(path, filesystem=self.fs)
        import pyarrow.dataset as ds

        return ds.dataset(path, filesystem=self.fs, format="parquet").head(limit)

    def stats(
        self, session: SQLSession, stage: str, target: exp.Table
    ) -> tuple[int | None, int | None]:
        """From the file's footer and size: no data is read."""
        import pyarrow.parquet as pq

        path = self.file(session, stage, target.name)
        rows = pq.read_metadata(path, filesystem=self.fs).num_rows
        return rows, int(self.fs.size(path))

    def forget_stage(self, session: SQLSession, stage: str) -> None:
        directory = self.directory(session, stage)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(directory, recursive=True)
        self._made.discard(directory)

    def table_files(self, session: SQLSession, stage: str, physical: str) -> TableFiles:
        return TableFiles(
            paths=(self.url(session, stage, physical),),
            filesystem=None if self.location.is_local else self.fs,
            storage_options=self.location.polars_options(),
        )

    def committed(
        self,
        session: SQLSession,
        stage: str,
        generation: int,
        tables: Sequence[TableRecord],
        tasks: Sequence[TaskRecord],
    ) -> None:
        self._ensure_directory(session, stage)
        path = self.location.path(self._directory_name(session, stage), manifest.NAME)
        document = manifest.dumps(stage, generation, list(tables), list(tasks))
        manifest.write(self.fs, path, document, local=self.location.is_local)
        session.store.fault_point("commit", f"MANIFEST {path}")

    # -- run records: files, like everything this store keeps ---------------------------------

    def record_run(self, session: SQLSession, record: RunRecord) -> None:
        """`<root>/.runs/`, one file per run (see `stores/run_files.py`), so that a catalogue in
        memory (rebuilt in every process) still finds the runs; one PUT on object stores."""
        directory = self._runs_directory(session)
        if directory not in self._made:
            self.fs.makedirs(directory, exist_ok=True)
            self._made.add(directory)
        path = f"{directory}/{run_files.file_name(record)}"
        manifest.write(self.fs, path, run_files.dumps(record), local=self.location.is_local)

    def run_records(self, session: SQLSession, run_id: str | None, limit: int) -> list[RunRecord]:
        directory = self._runs_directory(session)
        self.fs.invalidate_cache(directory)
        try:
            paths = self.fs.ls(directory, detail=False)
        except FileNotFoundError:
            return []
        names = sorted((p.rsplit("/", 1)[-1] for p in paths), reverse=True)
        records = []
        for name in [n for n in names if run_files.matches(n, run_id)][:limit]:
            data = manifest.read(self.fs, f"{directory}/{name}")
            if data is not None:
                records.append(run_files.loads(data))
        return records

    def _runs_directory(self, session: SQLSession) -> str:
        names = session.names
        return self.location.path(file_stem(f"{names.prefix}.runs{names.suffix}"))

    # -- helpers --------------------------------------------------------------------------------

    def _ensure_directory(self, session: SQLSession, stage: str) -> None:
        directory = self.directory(session, stage)
        if directory not in self._made:
            self.fs.makedirs(directory, exist_ok=True)
            self._made.add(directory)
