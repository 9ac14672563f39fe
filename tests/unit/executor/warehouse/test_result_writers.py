"""The result writers an adapter streams rows into: the formats, CSV's conventions and
its formula neutralising, and Parquet's column types over several chunks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from executor.warehouse.result_writers import (
    export_suffix,
    open_result_writer,
    statement_body,
)


def test_the_format_comes_from_the_extension_and_others_are_refused(tmp_path: Path) -> None:
    assert export_suffix(tmp_path / "a.CSV") == ".csv"
    assert export_suffix(tmp_path / "a.parquet") == ".parquet"
    with pytest.raises(ValueError, match=r"export path must end in \.csv or \.parquet"):
        export_suffix(tmp_path / "a.xlsx")
    with pytest.raises(ValueError, match="must end in"):
        open_result_writer(tmp_path / "a.json")


def test_a_statement_body_loses_its_trailing_semicolons() -> None:
    assert statement_body("  SELECT 1 ;;\n") == "SELECT 1"


def test_csv_follows_the_sample_data_conventions_and_neutralises_formulas(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.csv"
    columns = ["=n", "when", "day", "ok", "amount", "note"]
    first = (1, datetime(2025, 1, 2, 3, 4, 5), date(2025, 1, 2), True, Decimal("-1.50"), "=X()")
    with open_result_writer(path) as write:
        write(columns, [first], [None] * 6)
        write(columns, [(2, None, None, False, None, "a\rb")], [None] * 6)

    assert path.read_bytes().decode().split("\r\n") == [
        "'=n,when,day,ok,amount,note",
        "1,2025-01-02 03:04:05,2025-01-02,true,-1.50,'=X()",
        '2,,,false,,"a\rb"',
        "",
    ]


def test_parquet_keeps_the_given_types_and_writes_unknown_ones_as_text(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    types = [pa.int32(), pa.float64(), None]
    with open_result_writer(path) as write:
        write(["id", "amount", "other"], [(1, Decimal("1.5"), {"a": 1})], types)
        write(["id", "amount", "other"], [(2, None, None)], types)

    table = pq.read_table(path)
    assert [str(t) for t in table.schema.types] == ["int32", "double", "string"]
    assert table.to_pylist() == [
        {"id": 1, "amount": 1.5, "other": "{'a': 1}"},
        {"id": 2, "amount": None, "other": None},
    ]
