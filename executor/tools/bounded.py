"""Warehouse text as the model may read it: bounded in size, and single-line where it is a
name, a description or a sample value.

Data reaches the model in the system prompt (the schema) and in tool results, and any of
it can be huge (a 400 KB cell) or written to look like instructions ("SYSTEM: ..."). It
always goes as quoted JSON values, never as prose, and through these caps, so one value
cannot crowd out the rules or turn a question into a 100k-token prompt.
"""

from __future__ import annotations

import json
from typing import Any

from executor.jsonable import jsonable

# A string inside a list (a table cell, a sample value, a list item) shown to the model.
CELL_CHARS = 500
# A whole tool result as JSON text: about 8k tokens.
RESULT_CHARS = 32_000
# An error message (a database's included) sent back to the model.
ERROR_CHARS = 2_000
CUT_NOTE = (
    "This result was shortened to fit {chars:,} characters: long values end in '…' and "
    "lists lost their last items. Counts and totals above are still the full ones."
)
ELLIPSIS = "…"


def one_line(text: str, limit: int) -> str:
    """`text` on one line (every run of whitespace, newlines included, becomes one space),
    cut to at most `limit` characters."""
    return cut(" ".join(text.split()), limit)


def cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the cut marked with '…'."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def for_model(output: Any, *, cell_chars: int = CELL_CHARS, total_chars: int = RESULT_CHARS) -> Any:
    """A tool's output as a JSON value of at most `total_chars` characters: strings in
    lists cut to `cell_chars`, then the largest lists halved until it fits; a dict that
    had to be cut says so under "note"."""
    plain = jsonable(output)
    value = _cut_strings(plain, cell_chars, total_chars // 2, in_list=False)
    was_cut = value != plain
    room = total_chars - len(CUT_NOTE) - 20
    while _size(value) > room and _halve_largest_list(value):
        was_cut = True
    if _size(value) > room:
        return {"note": CUT_NOTE.format(chars=total_chars), "start": cut(_dump(value), room)}
    if was_cut and isinstance(value, dict):
        value["note"] = CUT_NOTE.format(chars=total_chars)
    return value


def _cut_strings(value: Any, cell_chars: int, other_chars: int, *, in_list: bool) -> Any:
    if isinstance(value, str):
        return cut(value, cell_chars if in_list else other_chars)
    if isinstance(value, list):
        return [_cut_strings(item, cell_chars, other_chars, in_list=True) for item in value]
    if isinstance(value, dict):
        return {
            cut(key, cell_chars): _cut_strings(item, cell_chars, other_chars, in_list=in_list)
            for key, item in value.items()
        }
    return value


def _halve_largest_list(value: Any) -> bool:
    """Drop the second half of the largest list of more than one item; False if none."""
    lists = [found for found in _lists(value) if len(found) > 1]
    if not lists:
        return False
    largest = max(lists, key=_size)
    del largest[(len(largest) + 1) // 2 :]
    return True


def _lists(value: Any) -> list[list[Any]]:
    """Every list in `value`, itself included, outermost first."""
    if isinstance(value, dict):
        return [found for item in value.values() for found in _lists(item)]
    if isinstance(value, list):
        return [value, *(found for item in value for found in _lists(item))]
    return []


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _size(value: Any) -> int:
    return len(_dump(value))
