"""The reviewer's buttons on an answer: Verify on an agent answer, Retire on a verified one.

An agent answer that ran SQL carries **Verify** (action id `verify_answer`), whose value is
the answer's job id. A verified answer carries **Retire** (action id `retire_verified`),
behind a confirmation dialog, whose value is `{"entry_id": …, "job_id": …}` in JSON: the
entry that answered and the job it answered. Both sit in an `actions` block just above the
feedback buttons (a `context_actions` block takes feedback and icon buttons only). Anyone
sees them; only reviewers may use them (bot/slack/review.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # For annotations only: the ingress registers these buttons' listeners, and the answer
    # model is the worker's.
    from bot.answer import Answer

VERIFY_ACTION = "verify_answer"
RETIRE_ACTION = "retire_verified"
REVIEW_BLOCK = "review"
MAX_VALUE_CHARS = 2000  # Slack's limit on a button's value


class BadReviewPayload(ValueError):
    """A review click or submission databot cannot have produced; the message says why."""


def review_block(answer: Answer, job_id: str) -> dict[str, Any] | None:
    """The button a reviewer may press on this answer, or None: an agent answer without SQL
    has nothing to verify, and a verified answer that names no entry nothing to retire."""
    if answer.verified:
        if not answer.entry_id:
            return None
        button = {
            "type": "button", "action_id": RETIRE_ACTION,
            "text": _plain("Retire"),
            "value": json.dumps({"entry_id": answer.entry_id, "job_id": job_id}),
            "confirm": {
                "title": _plain("Retire this entry?"),
                "text": _plain("Questions like this one will no longer be answered from "
                               f"the verified query {answer.entry_id}."[:300]),
                "confirm": _plain("Retire"),
                "deny": _plain("Keep it"),
                "style": "danger",
            },
        }
    elif answer.sql:
        button = {"type": "button", "action_id": VERIFY_ACTION, "text": _plain("Verify"),
                  "value": job_id}
    else:
        return None
    if len(button["value"]) > MAX_VALUE_CHARS:
        return None  # no id databot writes is this long; a button Slack refuses is worse
    return {"type": "actions", "block_id": REVIEW_BLOCK, "elements": [button]}


def verify_value(value: Any) -> str:
    """A Verify button's job id."""
    if not isinstance(value, str) or not value.strip():
        raise BadReviewPayload("the Verify button's value is not a job id")
    return value.strip()


def retire_value(value: Any) -> tuple[str, str]:
    """A Retire button's (entry_id, job_id)."""
    try:
        data = json.loads(value)
        entry_id, job_id = data["entry_id"], data["job_id"]
    except (TypeError, ValueError, KeyError):
        raise BadReviewPayload("the Retire button's value is not an entry and a job") from None
    if not all(isinstance(v, str) and v for v in (entry_id, job_id)):
        raise BadReviewPayload("the Retire button's value is not an entry and a job")
    return entry_id, job_id


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}
