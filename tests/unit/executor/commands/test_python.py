"""`databot python FILE [--input NAME=query.sql ...]` on the sample data in DuckDB."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from executor.commands import python as python_command
from tests.support.sandbox import DIVIDE_BY_ZERO

# Commands run here keep their results folder out of the checkout.
pytestmark = pytest.mark.usefixtures("private_results_dir")


def databot_python(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="databot python")
    python_command.add_arguments(parser)
    return python_command.run(parser.parse_args(argv))


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "plans.sql").write_text(
        "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan"
    )
    (tmp_path / "analysis.py").write_text(
        "import matplotlib.pyplot as plt\n"
        "df = load('plans')\n"
        "print('total users:', df['users'].sum())\n"
        "df.plot.bar(x='plan', y='users')\n"
        "(OUT / 'plans.csv').write_text(df.to_csv(index=False))\n"
        "result = dict(zip(df['plan'], df['users'].tolist()))\n"
    )
    return tmp_path


def test_runs_a_file_with_a_query_input(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = files / "saved"
    code = databot_python(
        str(files / "analysis.py"), "--input", f"plans={files / 'plans.sql'}", "--out", str(out)
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "total users: 5000" in printed
    result = json.loads(printed.split("result: ", 1)[1].splitlines()[0])
    assert set(result) == {"enterprise", "free", "pro"} and sum(result.values()) == 5000
    assert (out / "figures" / "figure-1.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "plans.csv").read_text().startswith("plan,users\n")
    assert f"saved {out / 'plans.csv'}" in printed


def test_json_output_lists_the_files_it_really_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN code that writes a file WHEN run with --json and --out
    script = tmp_path / "small.py"
    script.write_text("print('hi')\n(OUT / 'a.txt').write_text('abc')\nresult = {'n': 3}\n")
    code = databot_python(str(script), "--json", "--out", str(tmp_path / "saved"))
    shown = json.loads(capsys.readouterr().out)
    # THEN the JSON lists the file with the path it was saved at, and it is there
    assert code == 0 and shown["failure"] is None
    assert shown["stdout"] == "hi\n" and shown["result"] == {"n": 3}
    saved = tmp_path.resolve() / "saved" / "a.txt"
    assert shown["files"] == [{"name": "a.txt", "bytes": 3, "path": str(saved)}]
    assert saved.read_text() == "abc"


def test_an_exception_exits_1_with_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "divide.py"
    script.write_text(DIVIDE_BY_ZERO)
    assert databot_python(str(script)) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError: division by zero" in err
    assert 'File "main.py", line 1' in err


def test_a_timeout_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_WALL_SECONDS", "1")
    script = tmp_path / "loop.py"
    script.write_text("while True:\n    pass\n")
    assert databot_python(str(script)) == 3
    assert "stopped after the 1-second time limit" in capsys.readouterr().err


def test_a_sandbox_that_cannot_confine_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_OPEN_FILES", str(2**40))
    script = tmp_path / "hello.py"
    script.write_text("print('hello')\n")
    assert databot_python(str(script)) == 4
    captured = capsys.readouterr()
    assert "not confined" in captured.err and "hello" not in captured.out


def test_an_unsafe_input_query_exits_2_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "drop.sql").write_text("DROP TABLE users")
    script = tmp_path / "never.py"
    script.write_text("print('ran')\n")
    assert databot_python(str(script), "--input", f"q1={tmp_path / 'drop.sql'}") == 2
    captured = capsys.readouterr()
    assert "input refused" in captured.err and "ran" not in captured.out


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert databot_python(str(tmp_path / "nope.py")) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("q1", "expected NAME=query.sql"),
        ("1q=x.sql", "expected NAME=query.sql"),
        ("q1=/no/such.sql", "no SQL file"),
    ],
)
def test_a_bad_input_option_is_a_usage_error(
    spec: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        databot_python(str(tmp_path / "x.py"), "--input", spec)
    assert exited.value.code == 2
    assert reason in capsys.readouterr().err
