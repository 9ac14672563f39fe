"""input/schema.yaml: the human description of the warehouse's tables.

Adapters read the real catalog (names, types, row counts) and merge the descriptions
from this file into it; the DuckDB adapter also takes its column types from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from executor.config import DEFAULT_INPUT
from executor.warehouse.base import TableInfo
from executor.yaml_text import YAMLError, load_yaml

DEFAULT_SCHEMA_DOC = DEFAULT_INPUT / "schema.yaml"


class SchemaDocError(ValueError):
    """schema.yaml is missing a required part or has the wrong shape."""


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    description: str = ""
    examples: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class TableDoc:
    name: str
    columns: list[ColumnDoc]
    description: str = ""
    primary_key: str | None = None

    def column(self, name: str) -> ColumnDoc | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    def types(self) -> dict[str, str]:
        """Column name → declared SQL type, in file order."""
        return {c.name: c.type for c in self.columns}


@dataclass(frozen=True)
class Relationship:
    source: str  # "interactions.user_id"
    target: str  # "users.user_id"
    kind: str = "many-to-one"
    description: str = ""


@dataclass(frozen=True)
class SchemaDoc:
    tables: list[TableDoc] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)

    def table(self, name: str) -> TableDoc | None:
        return next((t for t in self.tables if t.name.lower() == name.lower()), None)

    def describe(self, tables: list[TableInfo]) -> list[TableInfo]:
        """The catalog's tables with descriptions filled in from this document."""
        return [self._describe_table(info) for info in tables]

    def _describe_table(self, info: TableInfo) -> TableInfo:
        doc = self.table(info.name)
        if doc is None:
            return info
        columns = [
            replace(column, description=column.description or col_doc.description)
            if (col_doc := doc.column(column.name))
            else column
            for column in info.columns
        ]
        return replace(info, columns=columns, description=info.description or doc.description)


def resolve_schema_doc(configured: Path | None, folder: Path | None = None) -> SchemaDoc:
    """The configured document (which must exist), else `folder`'s own, else the repo's."""
    if configured is not None:
        if not configured.is_file():
            raise SchemaDocError(f"schema document {configured} does not exist")
        return load_schema_doc(configured)
    own = folder / "schema.yaml" if folder is not None else None
    return load_schema_doc(own if own is not None and own.is_file() else DEFAULT_SCHEMA_DOC)


def load_schema_doc(path: Path) -> SchemaDoc:
    """Read a schema.yaml; a missing file is an empty document, a malformed one an error."""
    if not path.exists():
        return SchemaDoc()
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except YAMLError as e:
        raise SchemaDocError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise SchemaDocError(f"{path}: expected a mapping with 'tables'")
    tables = [_table(path, i, t) for i, t in enumerate(_list(path, data, "tables"))]
    relationships = [
        Relationship(
            source=str(_required(path, f"relationships[{i}]", r, "from")),
            target=str(_required(path, f"relationships[{i}]", r, "to")),
            kind=str(r.get("kind", "many-to-one")),
            description=str(r.get("description", "")),
        )
        for i, r in enumerate(_list(path, data, "relationships"))
    ]
    return SchemaDoc(tables=tables, relationships=relationships)


def _table(path: Path, index: int, data: Any) -> TableDoc:
    where = f"tables[{index}]"
    name = str(_required(path, where, data, "name"))
    columns = [
        ColumnDoc(
            name=str(_required(path, f"{name}.columns[{i}]", c, "name")),
            type=str(_required(path, f"{name}.columns[{i}]", c, "type")),
            description=str(c.get("description", "")).strip(),
            examples=list(c.get("examples") or []),
        )
        for i, c in enumerate(_list(path, data, "columns", where=name))
    ]
    return TableDoc(
        name=name,
        columns=columns,
        description=str(data.get("description", "")).strip(),
        primary_key=data.get("primary_key"),
    )


def _list(path: Path, data: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise SchemaDocError(
            f"{path}: {where + '.' if where else ''}{key} must be a list of mappings"
        )
    return value


def _required(path: Path, where: str, data: Any, key: str) -> Any:
    if not isinstance(data, dict) or data.get(key) in (None, ""):
        raise SchemaDocError(f"{path}: {where} needs '{key}'")
    return data[key]
