"""Every verified entry, run on the sample data in DuckDB, against an independent pandas
computation over the CSVs; and the library loader's refusals."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import yaml

from executor.charts.plan import plan_chart
from executor.charts.spec import ChartSpec
from executor.verified import Library, LibraryError, Matcher
from executor.verified.library import DEFAULT_LIBRARY, parse_library
from executor.verified.params import bind
from executor.verified.transpile import to_dialect
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.guarded import run_guarded
from tests.support.verified import TODAY

Frames = tuple[pd.DataFrame, pd.DataFrame]
Expected = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]


def _between(frame: pd.DataFrame, column: str, start: str, end: str) -> pd.DataFrame:
    """Rows with start <= column < end (end exclusive), as the library's periods are."""
    return frame[(frame[column] >= pd.Timestamp(start)) & (frame[column] < pd.Timestamp(end))]


def _purchases(interactions: pd.DataFrame) -> pd.DataFrame:
    return interactions[interactions.event_type == "purchase"]


def _pct(part: Any, whole: Any) -> Any:
    return (
        (100.0 * part / whole).round(1)
        if isinstance(part, pd.Series)
        else round(100.0 * part / whole, 1)
    )


def _month(values: pd.Series) -> pd.Series:
    return values.dt.to_period("M").dt.start_time.dt.date


def _week(values: pd.Series) -> pd.Series:
    return values.dt.to_period("W-SUN").dt.start_time.dt.date


def _one(**values: Any) -> pd.DataFrame:
    return pd.DataFrame([values])


def _count_by(users: pd.DataFrame, column: str) -> pd.DataFrame:
    counts = users.groupby(column).size().rename("users").reset_index()
    return counts.sort_values(["users", column], ascending=[False, True])


def _revenue_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    grouped = frame.groupby(column).agg(revenue=("revenue", "sum"), purchases=("revenue", "size"))
    return grouped.reset_index().sort_values("revenue", ascending=False)


def _funnel(interactions: pd.DataFrame, users: pd.DataFrame, column: str | None) -> pd.DataFrame:
    # Nested stages: cart users are viewers who added to cart, buyers are those who bought.
    events = interactions[["user_id", "event_type"]]
    flags = pd.crosstab(events.user_id, events.event_type).clip(upper=1)
    per_user = pd.DataFrame(
        {
            "viewers": flags["view"],
            "cart_users": flags["view"] * flags["add_to_cart"],
            "buyers": flags["view"] * flags["add_to_cart"] * flags["purchase"],
        }
    ).reset_index()
    # Only the user's columns: the funnel groups by the user's primary device.
    joined = per_user.merge(users, on="user_id")
    stages = ["viewers", "cart_users", "buyers"]
    frame = joined.groupby(column)[stages].sum() if column else joined[stages].sum().to_frame().T
    frame = frame.assign(
        view_to_cart_pct=_pct(frame.cart_users, frame.viewers),
        cart_to_purchase_pct=_pct(frame.buyers, frame.cart_users),
        view_to_purchase_pct=_pct(frame.buyers, frame.viewers),
    )
    if not column:
        return frame.reset_index(drop=True)
    return frame.reset_index().sort_values("view_to_purchase_pct", ascending=False)


def _per_period(
    frame: pd.DataFrame,
    period: Callable[[pd.Series], pd.Series],
    name: str,
    column: str,
    value: str,
) -> pd.DataFrame:
    keyed = frame.assign(**{name: period(frame[column])})
    return keyed.groupby(name).user_id.nunique().rename(value).reset_index().sort_values(name)


def _top_items(interactions: pd.DataFrame, n: int, category: str | None) -> pd.DataFrame:
    bought = _purchases(interactions)
    keys = ["item_id"] if category else ["item_id", "category"]
    if category:
        bought = bought[bought.category == category]
    grouped = bought.groupby(keys).agg(revenue=("revenue", "sum"), purchases=("revenue", "size"))
    grouped = grouped.reset_index().sort_values(["revenue", "item_id"], ascending=[False, True])
    return grouped.head(n)


def _churn(users: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    grouped = (
        users.assign(**{name: key})
        .groupby(name)
        .agg(users=("user_id", "size"), churned=("churned_at", "count"))
    )
    return grouped.reset_index().assign(churn_pct=lambda f: _pct(f.churned, f.users))


def _ripe(users: pd.DataFrame, days: int) -> pd.Series:
    """Users of cohorts whose last member has had `days` days in the data."""
    cohort_end = users.signup_date.dt.to_period("M").dt.end_time.dt.normalize()
    return cohort_end + pd.Timedelta(days=days - 1) <= users.signup_date.max()


def _half_up(part: pd.Series, whole: pd.Series) -> pd.Series:
    # SQL's ROUND takes a half up (45 of 144 is 31.25%: 31.3), pandas' to even.
    return (100.0 * part / whole + 1e-9).round(1)


def _cohort_churn(users: pd.DataFrame) -> pd.DataFrame:
    early = users.churned_at < users.signup_date + pd.Timedelta(days=90)
    frame = (
        users.assign(cohort=_month(users.signup_date), early=early)[_ripe(users, 90)]
        .groupby("cohort")
        .agg(users=("user_id", "size"), churned_90d=("early", "sum"),
             churned=("churned_at", "count"))
        .reset_index()
    )
    return frame.assign(
        churn_90d_pct=_half_up(frame.churned_90d, frame.users),
        churned_to_date_pct=_half_up(frame.churned, frame.users),
    ).drop(columns="churned")


def _retention(users: pd.DataFrame, interactions: pd.DataFrame) -> pd.DataFrame:
    # Active in days 30 to 59 after signup; only cohorts whose last member has had day 59.
    joined = interactions[["user_id", "occurred_at"]].merge(users[["user_id", "signup_date"]])
    since = joined.occurred_at - joined.signup_date
    window = joined[(since >= pd.Timedelta(days=30)) & (since < pd.Timedelta(days=60))]
    retained = users.user_id.isin(window.user_id)
    grouped = users.assign(cohort=_month(users.signup_date), retained=retained)[_ripe(users, 60)]
    frame = grouped.groupby("cohort").agg(users=("user_id", "size"), retained=("retained", "sum"))
    frame = frame.reset_index()
    return frame.assign(retention_pct=_half_up(frame.retained, frame.users))


def _sessions(interactions: pd.DataFrame) -> pd.DataFrame:
    sessions = interactions.groupby(["session_id", "device"]).duration_seconds.sum().reset_index()
    grouped = sessions.groupby("device").agg(
        sessions=("session_id", "size"), avg_session_seconds=("duration_seconds", "mean")
    )
    grouped = grouped.reset_index().assign(
        avg_session_seconds=lambda f: f.avg_session_seconds.round(1)
    )
    return grouped.sort_values("avg_session_seconds", ascending=False)


def _never_purchased(users: pd.DataFrame, interactions: pd.DataFrame) -> pd.DataFrame:
    never = int((~users.user_id.isin(_purchases(interactions).user_id)).sum())
    return _one(
        users=len(users), never_purchased=never, never_purchased_pct=_pct(never, len(users))
    )


def _who_purchased(users: pd.DataFrame, interactions: pd.DataFrame) -> pd.DataFrame:
    buyers = _purchases(interactions).user_id.nunique()
    return _one(buyers=buyers, users=len(users), buyers_pct=_pct(buyers, len(users)))


def _purchases_per_user(users: pd.DataFrame, interactions: pd.DataFrame) -> pd.DataFrame:
    bought = _purchases(interactions)
    buyers = bought.user_id.nunique()
    return _one(
        purchases=len(bought),
        buyers=buyers,
        purchases_per_buyer=round(len(bought) / buyers, 2),
        purchases_per_user=round(len(bought) / len(users), 2),
    )


def _revenue_total(interactions: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    bought = _between(_purchases(interactions), "occurred_at", start, end)
    return _one(revenue=bought.revenue.sum(), purchases=len(bought))


def _with_user(interactions: pd.DataFrame, users: pd.DataFrame, column: str) -> pd.DataFrame:
    return _purchases(interactions).merge(users[["user_id", column]], on="user_id")


# (entry, a question that must reach it, the pandas computation of its answer).
# Periods are written out as dates: today is 2026-11-21, so "the last 90 days" is
# 2026-08-23 up to (not including) 2026-11-21.
CASES: list[tuple[str, str, Expected]] = [
    ("signups_count", "how many users signed up in the last 90 days?",
     lambda u, i: _one(signups=len(_between(u, "signup_date", "2026-08-23", "2026-11-21")))),
    ("signups_in_country", "signups in Germany last month",
     lambda u, i: _one(signups=len(_between(u[u.country == "Germany"], "signup_date",
                                             "2026-10-01", "2026-11-01")))),
    ("signups_by_month", "signups by month",
     lambda u, i: u.groupby(_month(u.signup_date).rename("month")).size().rename("signups")
     .reset_index()),
    ("signups_by_week", "weekly signups this quarter",
     lambda u, i: (lambda f: f.groupby(_week(f.signup_date).rename("week")).size()
                   .rename("signups").reset_index())(
         _between(u, "signup_date", "2026-10-01", "2026-11-22"))),
    ("users_by_country", "users by country", lambda u, i: _count_by(u, "country")),
    ("users_by_plan", "users by plan",
     lambda u, i: _count_by(u, "plan").assign(pct=lambda f: _pct(f.users, len(u)))),
    ("users_by_channel", "users by acquisition channel",
     lambda u, i: _count_by(u, "acquisition_channel")),
    ("active_users", "how many active users do we have?",
     lambda u, i: _one(active_users=int(u.is_active.sum()), users=len(u),
                       active_pct=_pct(int(u.is_active.sum()), len(u)))),
    ("active_users_in_period", "active users in the last 7 days",
     lambda u, i: _one(active_users=_between(i, "occurred_at", "2026-11-14", "2026-11-21")
                       .user_id.nunique())),
    ("daily_active_users", "DAU",
     lambda u, i: _per_period(_between(i, "occurred_at", "2026-10-22", "2026-11-21"),
                              lambda s: s.dt.date, "day", "occurred_at", "active_users")),
    ("weekly_active_users", "WAU",
     lambda u, i: _per_period(_between(i, "occurred_at", "2026-08-24", "2026-11-16"),
                              _week, "week", "occurred_at", "active_users")),
    ("monthly_active_users", "MAU",
     lambda u, i: _per_period(i, _month, "month", "occurred_at", "active_users")),
    ("funnel_overall", "conversion funnel last quarter",
     lambda u, i: _funnel(_between(i, "occurred_at", "2026-07-01", "2026-10-01"), u, None)),
    ("funnel_by_device", "funnel by device", lambda u, i: _funnel(i, u, "device")),
    ("funnel_by_plan", "funnel by plan", lambda u, i: _funnel(i, u, "plan")),
    ("funnel_by_channel", "funnel by acquisition channel",
     lambda u, i: _funnel(i, u, "acquisition_channel")),
    ("revenue_total", "revenue this year",
     lambda u, i: _revenue_total(i, "2026-01-01", "2026-11-22")),
    ("revenue_by_plan", "revenue by plan",
     lambda u, i: _revenue_by(_with_user(i, u, "plan"), "plan")),
    ("revenue_by_country", "revenue by country",
     lambda u, i: _revenue_by(_with_user(i, u, "country"), "country")),
    ("revenue_by_channel", "revenue by acquisition channel",
     lambda u, i: _revenue_by(_with_user(i, u, "acquisition_channel"), "acquisition_channel")),
    ("revenue_by_category", "revenue by category",
     lambda u, i: _revenue_by(_purchases(i), "category")),
    ("revenue_by_month", "revenue by month",
     lambda u, i: _purchases(i).assign(month=lambda f: _month(f.occurred_at)).groupby("month")
     .agg(revenue=("revenue", "sum"), purchases=("revenue", "size")).reset_index()),
    ("average_order_value", "AOV in the last 30 days",
     lambda u, i: (lambda b: _one(average_order_value=round(b.revenue.mean(), 2),
                                  purchases=len(b)))(
         _between(_purchases(i), "occurred_at", "2026-10-22", "2026-11-21"))),
    ("top_items", "top 5 items", lambda u, i: _top_items(i, 5, None)),
    ("top_items_in_category", "top 3 products in books", lambda u, i: _top_items(i, 3, "books")),
    ("events_by_type", "events by type",
     lambda u, i: i.groupby("event_type").agg(interactions=("user_id", "size"),
                                              users=("user_id", "nunique"))
     .reset_index().sort_values("interactions", ascending=False)),
    ("churn_by_cohort", "churn by cohort", lambda u, i: _cohort_churn(u)),
    ("churn_by_plan", "churn by plan",
     lambda u, i: _churn(u, u.plan, "plan").sort_values("churn_pct", ascending=False)),
    ("retention_by_cohort", "retention by cohort", lambda u, i: _retention(u, i)),
    ("avg_session_duration_by_device", "average session duration by device",
     lambda u, i: _sessions(i)),
    ("users_never_purchased", "users who never purchased", _never_purchased),
    ("users_who_purchased", "users who purchased", _who_purchased),
    ("purchases_per_user", "average purchases per user", _purchases_per_user),
]  # fmt: skip


def test_every_entry_has_a_pandas_check(verified_library: Library) -> None:
    # GIVEN the library WHEN compared with the checks below THEN none is left unchecked
    assert len(verified_library.entries) >= 20
    assert {entry.id for entry in verified_library.entries} == {case[0] for case in CASES}


@pytest.mark.parametrize(("entry_id", "question", "expected"), CASES, ids=[c[0] for c in CASES])
def test_entry_matches_pandas(
    entry_id: str,
    question: str,
    expected: Expected,
    verified_matcher: Matcher,
    duckdb_sample: DuckDBWarehouse,
    sample_users: pd.DataFrame,
    sample_interactions: pd.DataFrame,
) -> None:
    # GIVEN a question the entry answers
    match = verified_matcher.match(question)
    assert match is not None and match.entry.id == entry_id
    # WHEN its SQL runs on DuckDB with the question's values bound as parameters
    sql = to_dialect(match.entry.sql, duckdb_sample.dialect)
    params = bind(match.entry, match.values, TODAY)
    result = run_guarded(duckdb_sample, sql, max_rows=10_000, params=params)
    # THEN it equals the same figures computed with pandas over the CSVs
    want = expected(sample_users, sample_interactions)
    assert result.columns == list(want.columns)
    assert result.total_rows == len(want) > 0
    for got_row, want_row in zip(result.rows, want.itertuples(index=False), strict=True):
        for column, got, wanted in zip(result.columns, got_row, want_row, strict=True):
            assert _same(got, wanted), f"{column}: {got!r} != {wanted!r} in {got_row}"
    # and its chart spec fits the result
    if match.entry.chart is not None:
        plan_chart(result.columns, result.rows, ChartSpec(**asdict(match.entry.chart)))


def _same(got: Any, wanted: Any) -> bool:
    if isinstance(wanted, pd.Timestamp):
        wanted = wanted.date()
    if isinstance(got, int | float | Decimal) and not isinstance(got, bool):
        # Percentages are rounded to 0.1 in SQL and in pandas, either way at a half.
        return math.isclose(float(got), float(wanted), rel_tol=1e-9, abs_tol=0.051)
    return bool(got == wanted)


def test_vocabulary_values_are_the_datas_own(
    verified_library: Library, sample_users: pd.DataFrame, sample_interactions: pd.DataFrame
) -> None:
    # GIVEN each value list WHEN compared with the column it filters THEN they are equal
    columns = {
        "country": sample_users.country,
        "device": sample_users.device,
        "plan": sample_users.plan,
        "acquisition_channel": sample_users.acquisition_channel,
        "gender": sample_users.gender,
        "category": sample_interactions.category,
    }
    assert set(verified_library.vocabulary.values) == set(columns)
    for kind, column in columns.items():
        assert set(verified_library.vocabulary.values[kind].values()) == set(column.unique()), kind


def test_transpiled_sql_keeps_named_parameters(verified_library: Library) -> None:
    entry = verified_library.get("signups_in_country")
    duckdb_sql = to_dialect(entry.sql, "duckdb")
    assert ":country" in duckdb_sql and ":start_date" in duckdb_sql and "$" not in duckdb_sql
    assert to_dialect(entry.sql, "redshift") == entry.sql


def test_values_are_bound_never_pasted(verified_matcher: Matcher) -> None:
    # GIVEN a question with a country and a period
    match = verified_matcher.match("signups in Germany last week")
    assert match is not None
    # WHEN its values are bound THEN they travel as parameters; the SQL text is the entry's
    params = bind(match.entry, match.values, TODAY)
    assert params == {
        "country": "Germany",
        "start_date": date(2026, 11, 9),
        "end_date": date(2026, 11, 16),
    }
    assert "Germany" not in match.entry.sql


# --- the loader's refusals ---------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_library() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_LIBRARY.read_text())


def _broken(raw: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["entries"][0].pop("sql"), "missing or empty: sql"),
        (lambda d: d["entries"][0].pop("verified_at"), r"verified_at \(a date\)"),
        (lambda d: d["entries"].append(d["entries"][0]), "id used twice"),
        (lambda d: d["entries"][0].update(sql="SELECT FROM WHERE ("), "does not parse"),
        (lambda d: d["entries"][0].update(sql="DELETE FROM users"), "exactly one SELECT"),
        (lambda d: d["entries"][0].update(params={}), "placeholders no parameter binds"),
        (lambda d: d["entries"][0]["params"].update(x={"type": "enum", "values": "planet"}),
         "must name a vocabulary list"),
        (lambda d: d["entries"][0]["params"].update(period={"type": "period", "default": "soon"}),
         "is not a period"),
        (lambda d: d["entries"][0]["params"].update(n={"type": "int", "default": 500}),
         "outside 1..100"),
        (lambda d: d["entries"][0].update(chart={"kind": "radar", "x": "a", "y": "b"}),
         "kind must be one of"),
        (lambda d: d["entries"][0].update(chart={"kind": "bar", "x": "a"}), "y is required"),
        (lambda d: d["entries"][0].update(chart={"kind": "histogram", "x": "a", "y": "b"}),
         "takes no y"),
        (lambda d: d["vocabulary"]["synonyms"].update(user="customer"), "list of non-empty"),
        (lambda d: d["entries"][0].update(intent={"metric": ["signup"]}),
         "needs metric .* and shape"),
        (lambda d: d["entries"][0].update(intent={"metric": ["signup"], "shape": "table"}),
         "needs metric .* and shape"),
        (lambda d: d["entries"][0].update(
            intent={"metric": ["signup"], "grouping": ["planet"], "shape": "ranking"}),
         r"grouping \['planet'\] is not in vocabulary.dimensions"),
        (lambda d: d["entries"][0].update(
            intent={"metric": ["signups by month"], "shape": "series"}),
         "names a value, grouping or shape"),
        (lambda d: d["entries"][0].update(
            intent={"metric": ["signup"], "statistic": ["revenue"], "shape": "number"}),
         "statistic names a metric word"),
        (lambda d: d["vocabulary"]["shapes"].update(table=["tabular"]), "one of number, series"),
    ],
)  # fmt: skip
def test_library_refuses_mistakes(
    raw_library: dict[str, Any], change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(LibraryError, match=message) as caught:
        parse_library(_broken(raw_library, change), source="verified_queries.yaml")
    assert "verified_queries.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("chart", "spec"),
    [
        ({"kind": "histogram", "x": "age", "x_label": "Age (years)"},
         ChartSpec("histogram", "age", None, x_label="Age (years)")),
        ({"kind": "barh", "x": "city", "y": "n", "y_label": "Users"},
         ChartSpec("barh", "city", "n", y_label="Users")),
    ],
)  # fmt: skip
def test_library_charts_take_every_kind_the_renderer_draws(
    raw_library: dict[str, Any], chart: dict[str, Any], spec: ChartSpec
) -> None:
    data = _broken(raw_library, lambda d: d["entries"][0].update(chart=chart))
    assert parse_library(data).entries[0].chart == spec


def test_library_file_errors_name_the_file(tmp_path: Any) -> None:
    from executor.verified import load_library

    path = tmp_path / "broken.yaml"
    path.write_text("entries: [unclosed")
    with pytest.raises(LibraryError, match=r"broken\.yaml"):
        load_library(path)
    with pytest.raises(LibraryError, match="cannot read"):
        load_library(tmp_path / "missing.yaml")
