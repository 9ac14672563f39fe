"""The Verify modal: a reviewer's proposal for a verified entry, prefilled from the answer.

Every field starts from the answer's `Proposal` (the worker's, else the plainest one), so
submitting without edits works:

- `question`: the question in canonical wording;
- `name`: a short entry name (lower case letters, digits and underscores);
- `paraphrases`: other phrasings, one per line (optional);
- `sql`: the SQL as run;
- `params`: the detected parameters, one per line as `name kind value [source]`, `kind`
  one of enum, period, int; a value with spaces in quotes (`country enum 'United States'
  country`) (optional);
- `definition`: one line saying what the answer means (defaults to the question).

`private_metadata` is `ReviewAsked` as JSON: the source job and the thread to reply in.
A submission whose structure databot cannot have produced is a BadReviewPayload (a 400);
fields a reviewer got wrong come back as Slack `errors`, keyed by block id.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass
from typing import Any

from bot.review import NAME_CHARS, PARAM_KINDS, Proposal, ReviewParam
from bot.slack.review_buttons import BadReviewPayload

VERIFY_VIEW = "verify_answer_modal"
QUESTION, NAME, PARAPHRASES, SQL, PARAMS, DEFINITION = (
    "question", "name", "paraphrases", "sql", "params", "definition")
FIELDS = (QUESTION, NAME, PARAPHRASES, SQL, PARAMS, DEFINITION)
OPTIONAL = frozenset({PARAPHRASES, PARAMS})
MAX_INPUT_CHARS = 3000  # Slack's limit on a plain_text_input
NAME_PATTERN = re.compile(rf"[a-z0-9_]{{1,{NAME_CHARS}}}")
PARAM_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class ReviewAsked:
    """What the Verify modal carries in its private_metadata: the answer's job, and the
    thread its verification is replied in."""

    job_id: str
    team_id: str
    channel: str
    thread_ts: str
    surface: str | None = None

    @classmethod
    def parse(cls, metadata: Any) -> ReviewAsked:
        try:
            data = json.loads(metadata)
            asked = cls(job_id=data["job_id"], team_id=data["team_id"],
                        channel=data["channel"], thread_ts=data["thread_ts"],
                        surface=data.get("surface"))
        except (TypeError, ValueError, KeyError):
            raise BadReviewPayload("the Verify modal's private_metadata is unreadable") from None
        if not all(isinstance(v, str) and v for v in
                   (asked.job_id, asked.team_id, asked.channel, asked.thread_ts)) \
                or not isinstance(asked.surface, str | None):
            raise BadReviewPayload("the Verify modal's private_metadata is unreadable")
        return asked


def fits_the_modal(proposal: Proposal) -> bool:
    """Whether every field of `proposal` fits its input (Slack caps each at 3,000)."""
    return all(len(text) <= MAX_INPUT_CHARS for text in _initial(proposal).values())


def verify_view(proposal: Proposal, asked: ReviewAsked) -> dict[str, Any]:
    initial = _initial(proposal)

    def field(block: str, label: str, hint: str, *, multiline: bool = False) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": block,
                                   "multiline": multiline, "max_length": MAX_INPUT_CHARS}
        if initial[block]:
            element["initial_value"] = initial[block]
        return {"type": "input", "block_id": block, "label": _plain(label),
                "hint": _plain(hint), "optional": block in OPTIONAL, "element": element}

    return {
        "type": "modal",
        "callback_id": VERIFY_VIEW,
        "private_metadata": json.dumps(asdict(asked)),
        "title": _plain("Verify this answer"),
        "submit": _plain("Verify"),
        "close": _plain("Cancel"),
        "blocks": [
            field(QUESTION, "Question", "The question in its canonical wording."),
            field(NAME, "Entry name", "Short: lower case letters, digits and underscores."),
            field(PARAPHRASES, "Other phrasings", "One per line.", multiline=True),
            field(SQL, "SQL", "The query as run; it is checked and run again.", multiline=True),
            field(PARAMS, "Parameters",
                  "One per line: name kind value [source]; kind is enum, period or int; "
                  "quote a value with spaces.", multiline=True),
            field(DEFINITION, "Definition", "One line: what the answer means."),
        ],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """The text of each field of a submitted Verify modal ("" when left empty)."""
    state = (view.get("state") or {}).get("values") or {}
    values: dict[str, str] = {}
    for block in FIELDS:
        try:
            value = state[block][block].get("value")
        except (KeyError, TypeError, AttributeError):
            raise BadReviewPayload(f"the Verify modal has no {block} field") from None
        if not isinstance(value, str | None):
            raise BadReviewPayload(f"the Verify modal's {block} is not text")
        values[block] = (value or "").strip()
    return values


def proposal_from(values: dict[str, str]) -> Proposal | dict[str, str]:
    """The reviewer's proposal, or the errors to show, by block id."""
    errors: dict[str, str] = {}
    for block in FIELDS:
        if block not in OPTIONAL and not values[block]:
            errors[block] = "Required."
    if values[NAME] and not NAME_PATTERN.fullmatch(values[NAME]):
        errors[NAME] = (f"At most {NAME_CHARS} lower case letters, digits and underscores.")
    params: list[ReviewParam] = []
    for number, line in enumerate(_lines(values[PARAMS]), start=1):
        param = _param(line)
        if isinstance(param, str):
            errors[PARAMS] = f"Line {number}: {param}"
            break
        params.append(param)
    if errors:
        return errors
    return Proposal(question=values[QUESTION], name=values[NAME], sql=values[SQL],
                    paraphrases=tuple(_lines(values[PARAPHRASES])), params=tuple(params),
                    definition=values[DEFINITION])


def param_line(param: ReviewParam) -> str:
    """A parameter as the modal shows it: `name kind value [source]`."""
    return shlex.join([param.name, param.kind, param.value] + ([param.source] if param.source
                                                               else []))


def _param(line: str) -> ReviewParam | str:
    """The parameter a line names, or what is wrong with it."""
    try:
        words = shlex.split(line)
    except ValueError:
        return "a quote is not closed."
    if len(words) not in (3, 4):
        return "write name kind value [source]."
    name, kind, value, *source = words
    if not PARAM_NAME.fullmatch(name):
        return f"{name!r} is not a name (lower case letters, digits, underscores)."
    if kind not in PARAM_KINDS:
        return f"kind must be one of {', '.join(PARAM_KINDS)}, not {kind!r}."
    return ReviewParam(name=name, kind=kind, value=value, source=source[0] if source else "")


def _initial(proposal: Proposal) -> dict[str, str]:
    return {
        QUESTION: proposal.question,
        NAME: proposal.name,
        PARAPHRASES: "\n".join(proposal.paraphrases),
        SQL: proposal.sql,
        PARAMS: "\n".join(param_line(param) for param in proposal.params),
        DEFINITION: " ".join((proposal.definition or proposal.question).split()),
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}
