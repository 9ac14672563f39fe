"""YAML as the project reads it: libyaml's safe loader, with PyYAML's own semantics."""

import pytest
import yaml

from executor.verified.library import DEFAULT_LIBRARY
from executor.warehouse.schema_doc import DEFAULT_SCHEMA_DOC
from executor.yaml_text import YAMLError, load_yaml


@pytest.mark.parametrize("path", [DEFAULT_LIBRARY, DEFAULT_SCHEMA_DOC])
def test_the_shipped_documents_read_as_the_pure_python_loader_reads_them(path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert load_yaml(text) == yaml.safe_load(text)


def test_the_fast_loader_is_used_and_stays_safe() -> None:
    assert yaml.__with_libyaml__
    with pytest.raises(YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")
