"""Query results as the sandbox's Parquet inputs."""

from __future__ import annotations

import io

import pyarrow
import pyarrow.parquet

from executor.warehouse.base import QueryResult


def result_parquet(result: QueryResult) -> bytes:
    """The rows a query result holds, as Parquet bytes (column types inferred)."""
    columns = [[row[i] for row in result.rows] for i in range(len(result.columns))]
    table = pyarrow.Table.from_arrays(
        [pyarrow.array(values) for values in columns], names=list(result.columns)
    )
    buffer = io.BytesIO()
    pyarrow.parquet.write_table(table, buffer)
    return buffer.getvalue()
