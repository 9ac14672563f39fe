"""What a reviewer asks of the worker about verified queries, on any chat platform.

A reviewer verifies an agent answer (a `verify` job carrying a `Proposal`: the entry as
submitted, prefilled from the answer) or retires a stored entry (a `retire` job naming
it). Both travel in the Job as a `Review`; a body whose review cannot be read is poison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The kinds of parameter a verified entry binds (executor/verified/library.py PARAM_TYPES).
PARAM_KINDS = ("enum", "period", "int")
NAME_CHARS = 60


class BadReview(ValueError):
    """A review that cannot be read; the message names the field."""


@dataclass(frozen=True)
class ReviewParam:
    """One value detected in the question, to become a parameter of the entry: `kind`
    period, enum (`source` names the value list, e.g. "country") or int (`source` "top")."""

    name: str
    kind: str
    value: str
    source: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> ReviewParam:
        if not isinstance(data, dict):
            raise BadReview("params: each parameter must be an object")
        name, kind, value = (_text(data, field, "params") for field in ("name", "kind", "value"))
        if kind not in PARAM_KINDS:
            raise BadReview(f"params.{name}: kind must be one of {', '.join(PARAM_KINDS)}")
        return cls(name=name, kind=kind, value=value,
                   source=_text(data, "source", "params", required=False))


@dataclass(frozen=True)
class Proposal:
    """A verified entry as a reviewer submits it: the question in canonical wording, a
    short name, other phrasings, the SQL, its parameters and a one-line definition."""

    question: str
    name: str
    sql: str
    paraphrases: tuple[str, ...] = ()
    params: tuple[ReviewParam, ...] = ()
    definition: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "name": self.name, "sql": self.sql,
            "paraphrases": list(self.paraphrases),
            "params": [vars(param) for param in self.params],
            "definition": self.definition,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Proposal:
        if not isinstance(data, dict):
            raise BadReview("proposal must be an object")
        paraphrases = data.get("paraphrases", [])
        params = data.get("params", [])
        if not isinstance(paraphrases, list) or not all(
                isinstance(p, str) for p in paraphrases):
            raise BadReview("proposal.paraphrases must be a list of strings")
        if not isinstance(params, list):
            raise BadReview("proposal.params must be a list")
        return cls(
            question=_text(data, "question", "proposal"),
            name=_text(data, "name", "proposal"),
            sql=_text(data, "sql", "proposal"),
            paraphrases=tuple(p.strip() for p in paraphrases if p.strip()),
            params=tuple(ReviewParam.from_dict(p) for p in params),
            definition=_text(data, "definition", "proposal", required=False),
        )

    @classmethod
    def default(cls, question: str, sql: list[str]) -> Proposal:
        """The plainest proposal for an answer the worker proposed none for: its question,
        a name made from it, and the last statement it ran."""
        return cls(question=question.strip(), name=entry_name(question),
                   sql=sql[-1].strip() if sql else "")


@dataclass(frozen=True)
class Review:
    """A verify (`proposal` set) or retire (`entry_id` set) request by `reviewer` (the
    platform's user id), about the answer of `source_job_id`."""

    source_job_id: str
    reviewer: str
    proposal: Proposal | None = None
    entry_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source_job_id": self.source_job_id, "reviewer": self.reviewer}
        if self.proposal is not None:
            data["proposal"] = self.proposal.to_dict()
        if self.entry_id is not None:
            data["entry_id"] = self.entry_id
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Review:
        if not isinstance(data, dict):
            raise BadReview("review must be an object")
        proposal = data.get("proposal")
        return cls(
            source_job_id=_text(data, "source_job_id", "review"),
            reviewer=_text(data, "reviewer", "review"),
            proposal=None if proposal is None else Proposal.from_dict(proposal),
            entry_id=_text(data, "entry_id", "review", required=False) or None,
        )


def entry_name(question: str) -> str:
    """A short entry name from a question: its words in snake case."""
    name = "_".join(re.findall(r"[a-z0-9]+", question.lower()))
    return name[:NAME_CHARS].rstrip("_") or "entry"


def _text(data: dict[str, Any], field: str, where: str, *, required: bool = True) -> str:
    value = data.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadReview(f"{where}.{field} must be a non-empty string")
    return value.strip()
