"""The generated large catalog: its size, the sample tables in it, the confusable copies,
and the same catalog every time (bench/catalog_tables.py)."""

from __future__ import annotations

from bench.catalog_tables import curated_tables, generate_tables, sample_tables
from executor.warehouse.schema_doc import DEFAULT_SCHEMA_DOC, load_schema_doc


def test_the_catalog_has_the_count_asked_with_unique_names() -> None:
    tables = generate_tables(2000)
    assert len(tables) == 2000
    assert len({table.name for table in tables}) == 2000
    assert all(table.columns and table.description for table in tables)


def test_the_catalog_holds_the_sample_tables_as_schema_yaml_describes_them() -> None:
    doc = load_schema_doc(DEFAULT_SCHEMA_DOC)
    tables = {table.name: table for table in generate_tables(2000)}
    for table_doc in doc.tables:
        table = tables[table_doc.name]
        assert table.description == table_doc.description
        assert [(c.name, c.type) for c in table.columns] == list(table_doc.types().items())
    assert [table.name for table in sample_tables()] == ["users", "interactions"]


def test_curated_tables_come_with_confusable_copies() -> None:
    names = {table.name for table in generate_tables(2000)}
    assert {"fct_orders", "fct_order_items", "stg_orders", "raw_orders", "orders_backup",
            "agg_orders_monthly"} <= names
    assert any(name.startswith("orders_archive_20") for name in names)
    assert any(name.startswith("orders_") and name.endswith(("emea", "amer", "apac", "latam"))
               for name in names)


def test_the_catalog_is_the_same_every_time_and_never_smaller_than_the_curated_part() -> None:
    assert generate_tables(2000) == generate_tables(2000)
    assert generate_tables(2000, seed=1) != generate_tables(2000)
    assert len(generate_tables(10)) == len(curated_tables())
