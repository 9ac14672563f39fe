"""An entry's parameters filled from a question's slots, then bound as query parameters.

Values only ever travel as bound parameters (`:country`, `:start_date`, ...): the SQL text
of a verified entry never changes with the question.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from executor.verified.library import Entry
from executor.verified.periods import Period
from executor.verified.text import Slot
from executor.verified.wording import country_name


class ParamMismatch(Exception):
    """The question's values do not fit this entry (a missing country, an extra period, ...)."""


def resolve(entry: Entry, slots: tuple[Slot, ...]) -> dict[str, Any]:
    """Each parameter's value from the question, or its default; every slot must be used."""
    remaining = list(slots)
    values: dict[str, Any] = {}
    for param in entry.params:
        taken = [slot for slot in remaining if slot.kind == param.slot_kind]
        if len(taken) > 1:
            raise ParamMismatch(f"the question gives more than one {param.slot_kind}")
        if taken:
            value = taken[0].value
            remaining.remove(taken[0])
        elif param.default is None:
            raise ParamMismatch(f"the question gives no {param.name}")
        else:
            value = param.default
        if param.type == "int" and not param.minimum <= value <= param.maximum:
            raise ParamMismatch(
                f"{param.name} must be between {param.minimum} and {param.maximum}, not {value}"
            )
        values[param.name] = value
    if remaining:
        extra = ", ".join(f"{slot.kind} {slot.value}" for slot in remaining)
        raise ParamMismatch(f"this entry has no parameter for {extra}")
    return values


def bind(entry: Entry, values: dict[str, Any], today: date) -> dict[str, Any]:
    """The query parameters: periods become :start_date and :end_date (exclusive)."""
    bound: dict[str, Any] = {}
    for param in entry.params:
        value = values[param.name]
        if isinstance(value, Period):
            bound["start_date"], bound["end_date"] = value.bounds(today)
        else:
            bound[param.name] = value
    return bound


def describe(entry: Entry, values: dict[str, Any], today: date) -> str:
    """Words for the filters applied, e.g. ' in Germany over the last 30 days (… to …)'."""
    parts: list[str] = []
    for param in entry.params:
        value = values[param.name]
        if isinstance(value, Period):
            if value.kind != "all_time":
                parts.append(f"over {value.describe(today)}")
        elif param.type == "enum":
            parts.append(param.label.format(
                value=country_name(value), source=param.source.replace("_", " ")
            ))
    return "".join(f" {part}" for part in parts)
