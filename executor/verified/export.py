"""Stored verified entries written as the library's YAML, to be merged into
input/verified_queries.yaml by appending them under its `entries:` (`databot verified
export`). Keys come in the static file's order, SQL as a literal block, and only the keys
the library loader reads: where an entry came from (its source job, fingerprint, status)
stays in the store. The file requires paraphrases, which an entry verified from chat may
lack: such an entry gets its question as its one paraphrase (the same wording, so nothing
matches differently), for the person merging it to add more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

# The order entries in input/verified_queries.yaml give their keys.
KEY_ORDER = ("id", "intent", "question", "paraphrases", "params", "sql", "answer", "chart",
             "explanation", "verified_by", "verified_at")
# Indented to sit under the static file's `entries:`.
INDENT = "  "


class _LibraryDumper(yaml.SafeDumper):
    """YAML as the library's authors write it: lists indented under their key, the SQL as
    a literal block, every value written out (no anchors)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LibraryDumper.add_representer(str, _text)


def library_yaml(entries: Iterable[Mapping[str, Any]]) -> str:
    """`entries` (library-format mappings) as the items of the library's `entries:` list."""
    ordered = [
        {key: _plain(entry[key]) for key in KEY_ORDER if entry.get(key) not in (None, "", [], {})}
        for entry in (_with_paraphrases(entry) for entry in entries)
    ]
    if not ordered:
        return ""
    text = yaml.dump(ordered, Dumper=_LibraryDumper, sort_keys=False, allow_unicode=True,
                     width=100)
    items = text.replace("\n- ", "\n\n- ")
    return "".join(INDENT + line if line.strip() else line for line in items.splitlines(True))


def _with_paraphrases(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    if entry.get("paraphrases"):
        return entry
    return {**entry, "paraphrases": [entry.get("question")]}


def _plain(value: Any) -> Any:
    """Tuples as lists and SQL without trailing blanks, so the dump reads like the file."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, str) and "\n" in value:
        return value.strip() + "\n"
    return value
