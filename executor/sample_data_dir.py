"""Where the sample data is. It lives in input/ at the top of the repository and is
installed as the package `executor.sample_data` (setup.py), so a wheel install finds its
own copy and an editable install finds input/ itself; a checkout that was never installed
reads input/ directly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

CHECKOUT_INPUT = Path(__file__).resolve().parent.parent / "input"


def sample_data_dir() -> Path:
    spec = importlib.util.find_spec("executor.sample_data")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]).resolve() if locations else CHECKOUT_INPUT
