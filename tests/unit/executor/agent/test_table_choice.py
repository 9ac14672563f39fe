"""The tables the system prompt shows: everything on a small warehouse, and on a large one
the tables a question needs, within a budget (executor/agent/table_choice.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date

import pytest

from bench.big_catalog import load_questions, measure
from bench.catalog_tables import generate_tables, sample_tables
from executor.agent.prompt import system_prompt
from executor.agent.table_choice import (
    LARGE_PROMPT_BYTES,
    LIKELY_NAMES,
    MORE_TABLES,
    RELEVANT_TABLES,
    catalog_index,
    choose_tables,
    names_line,
)
from executor.verified.library import load_library
from executor.verified.matcher import Matcher
from executor.warehouse.base import TableInfo

TARGET_SHARE = 0.95


@dataclass(frozen=True)
class Verified:
    question: str
    sql: str


@pytest.fixture(scope="module")
def catalog() -> list[TableInfo]:
    return generate_tables(2000)


def shown(choice_tables: list[TableInfo]) -> list[str]:
    return [table.name for table in choice_tables]


@pytest.mark.parametrize(("question", "needed"), [
    ("How much revenue did we make last month?", {"fct_payments"}),
    ("What is our churn rate this quarter?", {"subscriptions"}),
    ("How many tickets were opened last week?", {"support_tickets"}),
    ("How many users signed up last month?", {"users"}),
    ("headcount by department", {"dim_employees", "dim_departments"}),
    ("revenue by customer segment last month", {"fct_payments", "dim_customers"}),
    ("How many orders were there in the 2019 archive?", {"orders_archive_2019"}),
])
def test_a_large_catalog_shows_the_tables_a_question_needs(
    catalog: list[TableInfo], question: str, needed: set[str]
) -> None:
    # WHEN a question is asked of 2,000 tables, in the words people use
    choice = choose_tables(catalog, question)
    # THEN the tables it needs are among the few shown in full
    assert needed <= set(shown(choice.shown))
    assert len(choice.shown) == RELEVANT_TABLES
    assert (choice.budget_bytes, choice.names) == (LARGE_PROMPT_BYTES, LIKELY_NAMES)


def test_the_canonical_table_comes_before_its_copies(catalog: list[TableInfo]) -> None:
    choice = choose_tables(catalog, "How many orders were placed yesterday?")
    names = shown(choice.shown)
    assert names[0] == "fct_orders"
    assert not {"stg_orders", "raw_orders", "orders_backup"} & set(names)
    # the copies still rank above the tables that have nothing to do with orders
    assert shown(choice.named).index("stg_orders") < 100


def test_a_follow_up_keeps_the_tables_of_the_threads_sql(catalog: list[TableInfo]) -> None:
    # GIVEN a thread whose last answer counted support tickets
    earlier = [["SELECT COUNT(*) FROM support_tickets WHERE created_at >= '2026-11-23'"]]
    # WHEN the follow-up names no table
    choice = choose_tables(catalog, "who handled the most of them?", earlier_sql=earlier,
                           dialect="redshift")
    # THEN the tickets come first, with the agents they join to
    names = shown(choice.shown)
    assert names[0] == "support_tickets"
    assert "dim_support_agents" in names
    # AND without the thread, the question alone does not find them
    assert "support_tickets" not in shown(choose_tables(catalog, "who handled the most of "
                                                                 "them?").shown)


def test_a_follow_up_on_a_copy_keeps_the_copy(catalog: list[TableInfo]) -> None:
    # GIVEN a thread that asked about the staging table by name
    earlier = [["SELECT COUNT(*) FROM stg_orders"]]
    # WHEN the follow-up names no table
    choice = choose_tables(catalog, "and by channel?", earlier_sql=earlier)
    # THEN the copy the thread read comes first, not the table it copies
    assert shown(choice.shown)[0] == "stg_orders"


def test_a_matching_verified_example_brings_the_tables_its_sql_uses(
    catalog: list[TableInfo],
) -> None:
    # GIVEN a question in words no table's description uses
    question = "How many coupon redemptions did we have last month?"
    example = Verified("How many coupon redemptions last month?",
                       "SELECT COUNT(*) FROM fct_orders o JOIN dim_promo_codes p "
                       "ON o.promo_code = p.promo_code")
    unrelated = Verified("How many employees do we have?", "SELECT COUNT(*) FROM fct_payroll")
    # WHEN the closest verified example's question matches and its SQL reads two tables
    with_example = shown(choose_tables(catalog, question, [example], dialect="redshift").shown)
    without = shown(choose_tables(catalog, question, [unrelated], dialect="redshift").shown)
    # THEN both are shown; an example whose question does not match brings nothing
    assert {"fct_orders", "dim_promo_codes"} <= set(with_example)
    assert not {"fct_orders", "dim_promo_codes", "fct_payroll"} & set(without)


def test_a_small_warehouse_is_shown_whole_with_the_prompts_own_budget() -> None:
    tables = sample_tables()
    choice = choose_tables(tables, "revenue by country")
    assert choice.shown == tables
    assert (choice.named, choice.budget_bytes, choice.names) == ([], None, None)
    prompt = system_prompt(tables, "duckdb", date(2026, 11, 30), "revenue by country").text
    described = [json.loads(line)["name"] for line in prompt.splitlines()
                 if line.startswith("{")]
    assert described == ["users", "interactions"]
    assert MORE_TABLES not in prompt


def test_the_prompt_stays_within_the_large_budget_whatever_the_examples(
    catalog: list[TableInfo],
) -> None:
    # GIVEN worked examples as long as the prompt allows
    examples = [Verified("q " + "x" * 1_000, "SELECT 1 -- " + "y" * 10_000)] * 3
    for question in ("revenue by customer segment", "x", "tickets per agent team"):
        prompt = system_prompt(catalog, "redshift", date(2026, 11, 30), question,
                               examples).text
        # THEN the prompt keeps to its budget, still describes tables and names others
        assert len(prompt.encode()) <= LARGE_PROMPT_BYTES
        assert any(line.startswith('{"name"') for line in prompt.splitlines())
        more = next(line for line in prompt.splitlines() if line.startswith(MORE_TABLES))
        assert more.endswith(" more")


def test_the_choice_is_deterministic(catalog: list[TableInfo]) -> None:
    question = "average delivery time per carrier name"
    first = choose_tables(catalog, question)
    # a copy of the catalog (as a worker process would receive it) gives the same index
    copied = [replace(table) for table in catalog]
    assert catalog_index(copied) is catalog_index(catalog)
    again = choose_tables(copied, question)
    assert shown(first.shown) == shown(again.shown)
    assert shown(first.named) == shown(again.named)
    assert shown(generate_tables(2000)) == shown(catalog)


def test_the_names_line_lists_at_most_the_limit_then_counts_the_rest(
    catalog: list[TableInfo],
) -> None:
    line = names_line(catalog[:100], room=10_000, limit=3)
    assert line == (MORE_TABLES + json.dumps([t.name for t in catalog[:3]]) + " and 97 more")
    # and within a small room, fewer
    short = names_line(catalog[:100], room=200)
    assert len(short.encode()) + 2 <= 200 and short.endswith("more")
    assert names_line(catalog[:2], room=10_000) == (
        MORE_TABLES + json.dumps([t.name for t in catalog[:2]]))


def test_needed_tables_reach_the_prompt_for_the_target_share_of_questions(
    catalog: list[TableInfo],
) -> None:
    # GIVEN a fixed third of the question set, with the verified library's examples
    questions = load_questions()[::3]
    matcher = Matcher(load_library())
    # WHEN each question's prompt is built
    figures = measure(catalog, questions, matcher.closest)
    # THEN the tables each needs are described for at least the target share, in budget
    assert figures.described >= TARGET_SHARE, [q.text for q in figures.missed]
    assert max(figures.tokens) * 4 <= LARGE_PROMPT_BYTES
