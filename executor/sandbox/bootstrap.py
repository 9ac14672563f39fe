"""The program the sandboxed child runs: confine itself, run the code, record what it made.

Started as `python -m executor.sandbox.bootstrap CONFIG_JSON` in the scratch directory by
the local backend (in the worker, or inside the sandbox Lambda), or, with {"serve": ...},
as the warm template (executor.sandbox.template), whose forked children run `run_confined`
exactly as a fresh interpreter does. The code sees:
`load("q1")` → a pandas DataFrame of that input, `OUT` → the out/ folder, and may assign a
JSON-able value to `result`. The outcome goes to .databot/envelope.json for the parent.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from executor.sandbox import confine

CODE_FILE = "main.py"
INPUTS_DIR = "inputs"
OUT_DIR = "out"
STATE_DIR = ".databot"
FIGURES_DIR = f"{STATE_DIR}/figures"
ENVELOPE = f"{STATE_DIR}/envelope.json"
TRACEBACK_FRAMES = 6


def load(name: str) -> Any:
    """An input (an earlier query's result) as a pandas DataFrame."""
    path = Path(INPUTS_DIR) / f"{name}.parquet"
    if not path.is_file():
        known = sorted(p.stem for p in Path(INPUTS_DIR).glob("*.parquet"))
        raise KeyError(f"no input named {name!r}; inputs: {', '.join(known) or 'none'}")
    import pyarrow
    import pyarrow.parquet

    table = pyarrow.parquet.read_table(path)
    # DECIMAL columns (revenue) as floats: what pandas, numpy and scikit-learn work with.
    schema = pyarrow.schema(
        field.with_type(pyarrow.float64()) if pyarrow.types.is_decimal(field.type) else field
        for field in table.schema
    )
    return table.cast(schema).to_pandas()


def _jsonable(value: Any) -> Any:
    """json.dumps fallback for what analysis code tends to leave in `result`."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays, pandas Index
        return value.tolist()
    if hasattr(value, "to_dict"):  # pandas DataFrame / Series
        try:
            return value.to_dict(orient="records")
        except TypeError:
            return value.to_dict()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _exception_record(exc: BaseException) -> dict[str, Any]:
    """Type, message and the last frames, starting at the code's own first frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    first_user = next((i for i, f in enumerate(frames) if f.filename == CODE_FILE), 0)
    shown = frames[first_user:][-TRACEBACK_FRAMES:]
    lines = ["Traceback (most recent call last):", *traceback.format_list(shown)]
    return {
        "kind": "exception",
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip(
            "\n"
        ),
    }


def _save_figures(limit: int, envelope: dict[str, Any]) -> None:
    """Save every figure still open as figures/figure-N.png, and note its title."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    os.makedirs(FIGURES_DIR, exist_ok=True)
    for number in pyplot.get_fignums()[:limit]:
        figure = pyplot.figure(number)
        name = f"figure-{number}.png"
        try:
            figure.savefig(f"{FIGURES_DIR}/{name}", dpi=100, bbox_inches="tight")
        except Exception as e:  # a broken figure must not hide the code's own outcome
            envelope["notes"].append(f"figure {number} could not be saved: {e}")
            continue
        titles = [figure._suptitle.get_text()] if figure._suptitle else []
        titles += [axes.get_title() for axes in figure.axes]
        envelope["figure_titles"][f"figures/{name}"] = next((t for t in titles if t), "")


def _run_code(limits: dict[str, Any]) -> dict[str, Any]:
    source = Path(CODE_FILE).read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "__main__", "load": load, "OUT": Path(OUT_DIR)}
    envelope: dict[str, Any] = {"failure": None, "result": None, "notes": [], "figure_titles": {}}
    try:
        exec(compile(source, CODE_FILE, "exec"), namespace)
    except SystemExit as e:
        if e.code not in (None, 0):
            envelope["failure"] = {
                "kind": "exception",
                "type": "SystemExit",
                "message": f"exit status {e.code}",
                "traceback": None,
            }
    except BaseException as e:
        envelope["failure"] = _exception_record(e)
    sys.stdout.flush()
    if "result" in namespace:
        try:
            text = json.dumps(namespace["result"], default=_jsonable)
        except (TypeError, ValueError) as e:
            envelope["notes"].append(f"result left out: {e}")
        else:
            if len(text) > limits["result_bytes"]:
                envelope["notes"].append(
                    f"result left out: {len(text)} bytes of JSON, over the "
                    f"{limits['result_bytes']}-byte limit"
                )
            else:
                envelope["result"] = json.loads(text)
    _save_figures(limits["out_files"], envelope)
    return envelope


def _write_envelope(envelope: dict[str, Any]) -> None:
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(ENVELOPE, "w", encoding="utf-8") as f:
        json.dump(envelope, f)


def run_confined(config: dict[str, Any]) -> int:
    """Confine this process, then run the code: the one path from a started (or forked)
    process to user code. Returns the exit status."""
    limits = config["limits"]
    try:
        confine.apply_limits(limits)
        confine.drop_privileges(config["uid"])
        confine.die_with_parent(config["parent"])
        confine.drop_capabilities()
        landlock = confine.restrict_filesystem(os.getcwd(), config["readable"])
        confine.check_containment(os.geteuid(), landlock)
        confine.block_syscalls()
    except Exception as e:  # whatever went wrong, the code must not run unconfined
        _write_envelope(
            {
                "failure": {
                    "kind": "sandbox",
                    "message": f"not confined: {e}",
                    "type": None,
                    "traceback": None,
                }
            }
        )
        return 70
    envelope = _run_code(limits)
    envelope["landlock_abi"] = landlock
    _write_envelope(envelope)
    return 0


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    if "serve" in config:
        from executor.sandbox import template

        return template.serve(config["serve"], run_confined)
    return run_confined(config)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
