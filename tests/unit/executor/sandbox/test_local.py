"""The local sandbox backend: the acceptance cases and what the code can hand back."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from bot.config import Env
from executor.config import SandboxConfig
from executor.sandbox import Limits, SandboxResult
from executor.sandbox.limits import MB
from tests.support.sandbox import ACCEPTANCE, DIVIDE_BY_ZERO, RunCode


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("question", list(ACCEPTANCE))
def test_acceptance_calculations(question: str, run_code: RunCode) -> None:
    code, expected = ACCEPTANCE[question]
    result = run_code(code)
    assert result.ok, result.failure
    assert result.stdout.strip() == expected


def test_division_by_zero_comes_back_as_a_readable_error(run_code: RunCode) -> None:
    result = run_code(DIVIDE_BY_ZERO)
    assert not result.ok and result.failure is not None
    assert result.failure.kind == "exception"
    assert result.failure.type == "ZeroDivisionError"
    assert result.failure.message == "division by zero"
    # The traceback starts at the code's own frame and shows the failing line.
    assert result.failure.traceback is not None
    assert 'File "main.py", line 1' in result.failure.traceback
    assert "bootstrap" not in result.failure.traceback
    assert "ZeroDivisionError: division by zero" in result.failure.describe()


def test_inputs_load_by_name_as_dataframes(run_code: RunCode) -> None:
    frame = pd.DataFrame({"plan": ["free", "pro", "pro"], "users": [10, 4, 6]})
    code = "df = load('q1')\nresult = df.groupby('plan')['users'].sum().to_dict()"
    result = run_code(code, {"q1": parquet(frame)})
    assert result.ok, result.failure
    assert result.result == {"free": 10, "pro": 10}


def test_unknown_input_names_the_ones_there_are(run_code: RunCode) -> None:
    result = run_code("load('q9')", {"q1": parquet(pd.DataFrame({"a": [1]}))})
    assert result.failure is not None and result.failure.type == "KeyError"
    assert "q9" in result.failure.message and "q1" in result.failure.message


def test_input_names_must_be_identifiers(run_code: RunCode) -> None:
    with pytest.raises(ValueError, match="identifiers"):
        run_code("pass", {"../etc": b""})


def test_result_takes_numpy_and_pandas_values(run_code: RunCode) -> None:
    code = (
        "import numpy as np, pandas as pd\n"
        "result = {'mean': np.float64(2.5), 'arr': np.arange(3), "
        "'frame': pd.DataFrame({'a': [1, 2]})}"
    )
    result = run_code(code)
    assert result.ok, result.failure
    assert result.result == {"mean": 2.5, "arr": [0, 1, 2], "frame": [{"a": 1}, {"a": 2}]}


def test_result_that_is_not_json_is_left_out_with_a_note(run_code: RunCode) -> None:
    result = run_code("result = object()")
    assert result.ok
    assert result.result is None
    assert any("result left out" in note for note in result.notes)


def test_figures_and_out_files_are_collected(run_code: RunCode) -> None:
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3], [3, 1, 2])\n"
        "plt.title('trend')\n"
        "(OUT / 'report.md').write_text('# Report\\n')\n"
        "(OUT / 'nested').mkdir()\n"
        "(OUT / 'nested' / 'data.csv').write_text('a,b\\n1,2\\n')\n"
    )
    result = run_code(code)
    assert result.ok, result.failure
    assert [f.name for f in result.figures] == ["figures/figure-1.png"]
    assert result.figures[0].data.startswith(b"\x89PNG")
    files = {f.name: f for f in result.files}
    assert files["report.md"].data == b"# Report\n"
    assert files["nested/data.csv"].content_type == "text/csv"


def test_stdout_is_cut_at_its_cap(run_code: RunCode) -> None:
    result = run_code("print('x' * 5000)", limits=Limits(stdout_bytes=1000))
    assert result.ok
    assert result.stdout == "x" * 1000
    assert result.stdout_truncated and not result.stderr_truncated


def test_stderr_is_captured_separately(run_code: RunCode) -> None:
    result = run_code("import sys\nprint('to err', file=sys.stderr)\nprint('to out')")
    assert result.stdout == "to out\n"
    assert result.stderr == "to err\n"


def test_sys_exit_with_a_status_is_a_failure_and_zero_is_not(run_code: RunCode) -> None:
    assert run_code("import sys\nsys.exit(0)").ok
    failed = run_code("import sys\nsys.exit(3)")
    assert failed.failure is not None and failed.failure.message == "exit status 3"


def test_ending_the_process_early_is_reported(run_code: RunCode) -> None:
    result = run_code("import os\nprint('bye', flush=True)\nos._exit(0)")
    assert result.failure is not None and result.failure.kind == "exited"
    assert result.stdout == "bye\n"


def test_result_round_trips_through_json(run_code: RunCode) -> None:
    result = run_code(
        "(OUT / 'chart.png').write_bytes(b'\\x89PNG fake')\n"
        "(OUT / 'a.txt').write_text('hi')\nresult = [1, 'two']\nprint('out')"
    )
    assert [f.name for f in result.figures] == ["chart.png"]
    again = SandboxResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_limits_from_env_and_dict_validate() -> None:
    env = Env({"SANDBOX_WALL_SECONDS": "5", "SANDBOX_MEMORY_BYTES": str(MB)})
    limits = SandboxConfig.from_env(env, region=None).limits
    assert limits.wall_seconds == 5.0 and limits.memory_bytes == MB
    assert limits.cpu_seconds == Limits().cpu_seconds
    with pytest.raises(ValueError, match="SANDBOX_CPU_SECONDS must be a whole number >= 1, got"):
        SandboxConfig.from_env(Env({"SANDBOX_CPU_SECONDS": "lots"}), region=None)
    with pytest.raises(ValueError, match="unknown sandbox limits: bogus"):
        Limits.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="positive"):
        Limits.from_dict({"open_files": 0})
