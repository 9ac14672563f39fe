"""YAML as the project reads it: safely, with libyaml's loader when PyYAML has it (the
verified library and a large schema document parse in milliseconds rather than tenths of
a second)."""

from __future__ import annotations

from typing import Any

import yaml

YAMLError = yaml.YAMLError
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The document `text` holds, with safe types only. Raises YAMLError."""
    return yaml.load(text, Loader=_SAFE_LOADER)
