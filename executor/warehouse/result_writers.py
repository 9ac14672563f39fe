"""Where a whole query result is written: the export formats both adapters accept (chosen
by the file's extension) and, for an adapter that streams rows through Python, the
writers that append a chunk of rows at a time.

DuckDB writes exports itself (`COPY ... TO`), so it uses the format check and
`statement_body` alone; Redshift fetches chunks from a server-side cursor and hands them
to `open_result_writer`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from executor.warehouse.csv_cells import neutralise_cell

if TYPE_CHECKING:
    # Imported where Parquet is written: DuckDB's memory-capped process imports this module
    # for the format check and has no use for pyarrow.
    import pyarrow as pa

CSV = ".csv"
PARQUET = ".parquet"
EXPORT_SUFFIXES = (CSV, PARQUET)

# Writes one chunk: (column names, rows, each column's Arrow type, None where unknown).
# Column types only shape Parquet; CSV prints the values as they are.
ChunkWriter = Callable[[list[str], list[Any], list["pa.DataType | None"]], None]


def export_suffix(path: Path) -> str:
    """The export format of `path`, by its extension (lower case); any other is refused."""
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"export path must end in {' or '.join(EXPORT_SUFFIXES)}: {path}")
    return suffix


def statement_body(sql: str) -> str:
    """The statement without trailing semicolons, so that it can be wrapped."""
    return sql.strip().rstrip(";").rstrip()


def open_result_writer(path: Path) -> AbstractContextManager[ChunkWriter]:
    """A writer of `path` in its export format; the file is complete once it is closed."""
    return _csv_writer(path) if export_suffix(path) == CSV else _parquet_writer(path)


@contextmanager
def _csv_writer(path: Path) -> Iterator[ChunkWriter]:
    """CSV in the sample data's conventions (empty for NULL, true/false, ISO dates), its
    cells neutralised against formula injection."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        # RFC 4180 line ends: the csv module quotes a field only for characters of its line
        # terminator, so with "\n" alone a value holding "\r" would split its row.
        writer = csv.writer(out, lineterminator="\r\n")
        started = False

        def write(columns: list[str], rows: list[Any], types: list[pa.DataType | None]) -> None:
            nonlocal started
            if not started:
                writer.writerow([neutralise_cell(c) for c in columns])
                started = True
            writer.writerows([neutralise_cell(_csv_value(v)) for v in row] for row in rows)

        yield write


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


@contextmanager
def _parquet_writer(path: Path) -> Iterator[ChunkWriter]:
    """Parquet with the given column types; a column of unknown type becomes text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writers: list[pq.ParquetWriter] = []

    def write(columns: list[str], rows: list[Any], types: list[pa.DataType | None]) -> None:
        known = [pa.string() if t is None else t for t in types]
        schema = pa.schema(list(zip(columns, known, strict=True)))
        arrays = [_arrow_array([row[i] for row in rows], t) for i, t in enumerate(known)]
        if not writers:
            writers.append(pq.ParquetWriter(path, schema))
        writers[0].write_table(pa.Table.from_arrays(arrays, schema=schema))

    try:
        yield write
    finally:
        for writer in writers:
            writer.close()


def _arrow_array(values: list[Any], type_: pa.DataType) -> pa.Array:
    import pyarrow as pa

    if type_ == pa.float64():
        values = [None if v is None else float(v) for v in values]
    elif type_ == pa.string():
        values = [None if v is None else str(v) for v in values]
    return pa.array(values, type=type_)
