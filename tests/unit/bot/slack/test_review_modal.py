"""The Verify modal: prefilled so that submitting it unedited gives back the proposal, its
fields checked with errors a reviewer can act on, and a view Slack accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.review import Proposal, ReviewParam
from bot.slack.review_buttons import BadReviewPayload
from bot.slack.review_modal import (
    FIELDS,
    MAX_INPUT_CHARS,
    VERIFY_VIEW,
    ReviewAsked,
    fits_the_modal,
    param_line,
    proposal_from,
    submitted_values,
    verify_view,
)
from tests.support.slack_api import SlackApiStandIn

ASKED = ReviewAsked(job_id="Ev1", team_id="T1", channel="C1", thread_ts="1.2")
PROPOSAL = Proposal(
    question="How many users signed up in Germany in October 2026?",
    name="signups_by_country_month",
    sql="SELECT count(*) FROM users WHERE country = 'DE' AND month = '2026-10'",
    paraphrases=("signups in Germany last October", "German sign-ups, Oct 2026"),
    params=(ReviewParam("country", "enum", "DE", "country"),
            ReviewParam("month", "period", "2026-10"),
            ReviewParam("region", "enum", "United States", "country")),
    definition="Users whose sign-up date falls in the month, in the country.",
)


def submitted(view: dict[str, Any], **edits: str | None) -> dict[str, Any]:
    """`view` as Slack submits it: each input's initial value, or the reviewer's edit."""
    values = {}
    for block in view["blocks"]:
        element = block["element"]
        value = edits.get(block["block_id"], element.get("initial_value"))
        values[block["block_id"]] = {element["action_id"]: {"type": "plain_text_input",
                                                            "value": value}}
    return {**view, "state": {"values": values}}


def test_every_field_is_prefilled_from_the_proposal() -> None:
    view = verify_view(PROPOSAL, ASKED)

    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert initial == {
        "question": PROPOSAL.question,
        "name": "signups_by_country_month",
        "paraphrases": "signups in Germany last October\nGerman sign-ups, Oct 2026",
        "sql": PROPOSAL.sql,
        "params": "country enum DE country\nmonth period 2026-10\n"
                  "region enum 'United States' country",
        "definition": PROPOSAL.definition,
    }
    assert view["callback_id"] == VERIFY_VIEW
    assert ReviewAsked.parse(view["private_metadata"]) == ASKED
    assert [b["block_id"] for b in view["blocks"] if b["optional"]] == ["paraphrases", "params"]


@pytest.mark.parametrize("proposal", [PROPOSAL, Proposal.default("How many users?", ["SELECT 1"])])
def test_submitting_without_edits_gives_back_the_proposal(proposal: Proposal) -> None:
    view = submitted(verify_view(proposal, ASKED))

    result = proposal_from(submitted_values(view))

    # The plainest proposal has no definition: the question stands in for it.
    assert result == (proposal if proposal.definition else Proposal(
        question=proposal.question, name=proposal.name, sql=proposal.sql,
        definition=proposal.question))


def test_edits_are_taken_blank_lines_dropped() -> None:
    view = submitted(verify_view(PROPOSAL, ASKED), paraphrases="\n  one  \n\ntwo\n",
                     params="top int 10 top\n\n", name="top_countries")

    result = proposal_from(submitted_values(view))

    assert isinstance(result, Proposal)
    assert result.paraphrases == ("one", "two")
    assert result.params == (ReviewParam("top", "int", "10", "top"),)
    assert result.name == "top_countries"


@pytest.mark.parametrize(
    ("edits", "errors"),
    [
        ({"question": ""}, {"question": "Required."}),
        ({"sql": None, "definition": "  "}, {"sql": "Required.", "definition": "Required."}),
        ({"name": "Signups By Country"}, {"name": "At most 60 lower case letters, digits and "
                                                  "underscores."}),
        ({"name": "x" * 61}, {"name": "At most 60 lower case letters, digits and underscores."}),
        ({"params": "country enum"}, {"params": "Line 1: write name kind value [source]."}),
        ({"params": "month period 2026-10\ncountry place DE"},
         {"params": "Line 2: kind must be one of enum, period, int, not 'place'."}),
        ({"params": "Country enum DE"},
         {"params": "Line 1: 'Country' is not a name (lower case letters, digits, "
                    "underscores)."}),
        ({"params": "country enum 'United States"}, {"params": "Line 1: a quote is not closed."}),
    ],
)
def test_fields_a_reviewer_got_wrong_are_errors_by_block(
    edits: dict[str, str | None], errors: dict[str, str]
) -> None:
    view = submitted(verify_view(PROPOSAL, ASKED), **edits)

    assert proposal_from(submitted_values(view)) == errors


def _drop_field(view: dict[str, Any]) -> None:
    del view["state"]["values"]["sql"]


def _numeric_field(view: dict[str, Any]) -> None:
    view["state"]["values"]["name"]["name"]["value"] = 7


def _renamed_action(view: dict[str, Any]) -> None:
    view["state"]["values"]["sql"] = {"query": {"value": "SELECT 1"}}


@pytest.mark.parametrize(
    ("change", "problem"),
    [(_drop_field, "no sql field"), (_numeric_field, "name is not text"),
     (_renamed_action, "no sql field")],
)
def test_a_submission_databot_cannot_have_produced_is_refused(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    view = submitted(verify_view(PROPOSAL, ASKED))
    change(view)

    with pytest.raises(BadReviewPayload, match=problem):
        submitted_values(view)


@pytest.mark.parametrize(
    "metadata",
    [None, "not json", "[]", json.dumps({"job_id": "Ev1"}),
     json.dumps({"job_id": "Ev1", "team_id": "T1", "channel": "C1", "thread_ts": ""}),
     json.dumps({"job_id": "Ev1", "team_id": "T1", "channel": "C1", "thread_ts": "1.2",
                 "surface": 3})],
)
def test_unreadable_metadata_is_refused(metadata: Any) -> None:
    with pytest.raises(BadReviewPayload, match="private_metadata"):
        ReviewAsked.parse(metadata)


def test_a_parameter_line_quotes_what_has_spaces() -> None:
    assert param_line(ReviewParam("month", "period", "2026-10")) == "month period 2026-10"
    assert param_line(ReviewParam("c", "enum", "United States", "country")) == \
        "c enum 'United States' country"


def test_slack_accepts_the_modal_and_would_refuse_sql_over_its_input_limit(
    slack_api: SlackApiStandIn
) -> None:
    client = WebClient(token=slack_api.token, base_url=slack_api.url)
    assert client.views_open(trigger_id="1.2.3", view=verify_view(PROPOSAL, ASKED))["ok"]
    assert len(FIELDS) == 6

    # SQL too long for one input: the modal is not offered
    long_sql = Proposal(question="q", name="q", sql="SELECT 1" + " " * MAX_INPUT_CHARS)
    assert fits_the_modal(PROPOSAL) and not fits_the_modal(long_sql)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id="1.2.3", view=verify_view(long_sql, ASKED))
