"""An Answer as terminal text (bot/render_terminal.py)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from bot.answer import Answer, Chart, CodeRun, Table, Usage
from bot.render_terminal import render_answer, usage_line
from bot.table_text import format_table


def test_a_model_answer_with_everything() -> None:
    answer = Answer(
        text="Revenue grew **12%**.",
        sql=["SELECT 1", "SELECT 2"],
        table=Table(columns=["plan", "revenue"], rows=[["pro", 1234.5], ["free", None]],
                    total_rows=3),
        charts=[Chart(title="Revenue", path="/tmp/c.png", url="https://s3/c.png"),
                Chart(title="", path="/tmp/d.png")],
        artifacts={"result.csv": "https://s3/result.csv"},
        code=[CodeRun(code="print(1)", output="1\n", error="ValueError: x")],
        usage=Usage(model_id="m1", input_tokens=1200, output_tokens=80, cost_usd=0.0123,
                    seconds=4.2),
    )  # fmt: skip
    text = render_answer(answer)
    assert text.startswith("Revenue grew 12%.\n\nSQL 1\n  SELECT 1\n\nSQL 2\n  SELECT 2\n")
    assert "Result (first 2 of 3 rows)\n  plan   revenue\n  ----  --------\n" in text
    assert "  pro   1,234.50\n  free      NULL\n" in text
    assert "Python\n  print(1)\n\nOutput\n  1\n  ValueError: x\n" in text
    assert "Charts\n  Revenue: https://s3/c.png\n  Chart: /tmp/d.png\n" in text
    assert "Files\n  result.csv: https://s3/result.csv\n" in text
    assert text.endswith("model m1 · 1,200 in / 80 out tokens · $0.0123 · 4.20 s\n")


def test_a_text_only_answer() -> None:
    text = render_answer(Answer(text="", verified=True))
    assert text == "(no answer text)\n\nverified query · 0 in / 0 out tokens · $0.0000 · 0.00 s\n"


def test_a_cut_table_gives_the_path_of_the_full_result() -> None:
    table = Table(columns=["n"], rows=[[1]], total_rows=9, full_result="results/J1/query_1.csv")
    text = render_answer(Answer(text="t", table=table))
    assert "Result (first 1 of 9 rows)\n" in text
    assert "\n  Full result: results/J1/query_1.csv\n" in text


def test_markdown_bold_prints_as_plain_words() -> None:
    text = render_answer(Answer(text="**3,888** of __5,000__ users; 2 ** 3 stays"))
    assert text.startswith("3,888 of 5,000 users; 2 ** 3 stays\n")


def test_format_table_aligns_and_cuts() -> None:
    table = format_table(["name", "share"], [["x" * 60, Decimal("0.01234")], ["y", 2]])
    header, rule, first, second = table.splitlines()
    assert header.split() == ["name", "share"]
    assert first == "x" * 39 + "…  0.01234"
    assert second.endswith("  2") and len(rule) == len(first) == len(second)


def test_imports_nothing_heavy() -> None:
    code = (
        "import sys, bot.render_terminal; "
        "print(sorted(m for m in ('pandas', 'numpy', 'matplotlib', 'duckdb', 'sqlglot') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_numbers_read_the_same_in_every_column() -> None:
    # GIVEN counts, ids, percentages with one decimal, and amounts
    table = format_table(
        ["item_id", "year", "buyers", "pct", "revenue", "share"],
        [[3017, 2026, 13911, Decimal("54.6"), 70023.5, 0.0123],
         [1001, 2025, 974, Decimal("8.0"), 12.0, 0.5]],
    )  # fmt: skip
    _, _, first, second = table.splitlines()
    # THEN counts get separators, ids and years do not; a column shows the decimals its
    # values need, amounts always two
    assert first.split() == ["3017", "2026", "13,911", "54.6", "70,023.50", "0.0123"]
    assert second.split() == ["1001", "2025", "974", "8.0", "12.00", "0.5"]


def test_the_as_of_date_and_the_latest_rows_are_named() -> None:
    # GIVEN an answer over the latest 2 of 35 months, with the data's as-of date
    rows = [["2026-10-01", 3], ["2026-11-01 (through the 20th)", 1]]
    table = Table(["month", "n"], rows, total_rows=35, selection="latest", unit="months")
    # WHEN printed
    text = render_answer(Answer(text="t", table=table, as_of="2026-11-20"))
    # THEN the preview says which rows it holds, and the date the data runs to is stated
    assert "Result (latest 2 of 35 months)\n" in text
    assert "\n\nData as of 2026-11-20\n\nmodel (none)" in text


def test_the_answer_notes_are_printed_before_the_usage() -> None:
    text = render_answer(Answer(text="42.", notes=["results reflect your own permissions"]))
    assert text.index("results reflect your own permissions") < text.index("0 in / 0 out")


def test_the_usage_line_says_how_much_of_the_prompt_was_cached() -> None:
    usage = Usage(model_id="m1", input_tokens=2_234, output_tokens=80, cache_read_tokens=9_800,
                  cost_usd=0.0123, seconds=4.2)
    assert usage_line(usage, verified=False) == (
        "model m1 · 12,034 in (9,800 cached) / 80 out tokens · $0.0123 · 4.20 s")
