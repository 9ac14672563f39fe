"""The lexical table ranker: names split and stemmed, counting words left out, related
business words found (executor/agent/table_search.py)."""

from __future__ import annotations

from executor.agent.table_search import LexicalRanker, stem, terms
from executor.warehouse.base import Column, TableInfo


def test_terms_split_snake_and_camel_case_and_drop_stop_words() -> None:
    assert terms("fct_orderItems customer_id") == ["fct", "order", "item", "customer", "id"]
    assert terms("How many of the users?") == ["user"]


def test_a_words_forms_share_one_stem() -> None:
    assert {stem(word) for word in ("cancelled", "cancels", "cancel")} == {"cancel"}
    assert {stem(word) for word in ("shipped", "shipping", "ship")} == {"ship"}
    assert {stem(word) for word in ("purchase", "purchased", "purchases")} == {"purchas"}
    assert stem("categories") == "category"


def table(name: str, description: str, *columns: str) -> TableInfo:
    return TableInfo(name, [Column(column, "VARCHAR") for column in columns], 1, description)


TABLES = [
    table("fct_payments", "One row per successful card payment, in USD.", "payment_id",
          "amount_usd"),
    table("dim_exchange_rates", "Daily currency exchange rates.", "rate_date", "usd_rate"),
    table("dim_employees", "One row per employee.", "employee_id", "department_id"),
    table("orders", "Orders placed in the shop.", "order_id", "total_amount"),
]


def ranked(question: str) -> list[str]:
    scores = LexicalRanker(TABLES).scores(question)
    order = sorted(range(len(TABLES)), key=lambda i: -scores[i])
    return [TABLES[i].name for i in order if scores[i] > 0]


def test_a_related_business_word_finds_the_table_that_uses_another() -> None:
    assert ranked("How much revenue did we make?")[0] == "fct_payments"
    assert ranked("What is our headcount?") == ["dim_employees"]


def test_a_word_in_a_tables_name_counts_more_than_in_its_columns() -> None:
    assert ranked("orders by total amount")[0] == "orders"


def test_counting_and_period_words_point_at_no_table() -> None:
    # "rate" and "month" say how to count, not what about: no exchange rates, no dates
    assert ranked("What is the monthly growth rate per day?") == []
    assert ranked("payment rate per month") == ["fct_payments"]
