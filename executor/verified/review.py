"""A reviewer's verify and retire jobs: a proposal checked, run and stored as a verified
entry, or an entry retired.

Verifying refuses (`Refused`, told in the thread with the reason) unless every step
holds, in this order:
1. the proposal reads as a library entry (parse_entry: the SQL parses as Redshift, its
   placeholders are exactly the parameters', the value lists exist); its intent is what
   the library's parser reads in the question;
2. its name is not taken, by the library file or by a stored entry (retired included);
3. the SQL passes the guard the agent's run_sql uses;
4. with the entry added, the matcher answers the question and each paraphrase from it;
5. the SQL runs, its values bound from the question as the library binds them, and its
   result's fingerprint is recorded;
6. no other question changes its answer: every question of the evaluation set
   (input/eval/questions.yaml) and every phrasing of every other entry is matched to the
   same entry as before, or stays unanswered, with the new entry in the library;
7. the store accepts it (a conditional put: two reviewers cannot take one name).
Then the live library is read again, so this process serves the entry at once (others
within their reload interval).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.asker import Asker
from bot.delivery import MENTION
from bot.observability import service_logger
from bot.review import Proposal, Review, ReviewParam
from executor.config import EngineConfig
from executor.errors import UnsafeSQL, UserFacingError, WarehouseError
from executor.governance.audit_trail import AuditTrail, open_audit_trail
from executor.governance.audited import AuditedWarehouse
from executor.verified.fingerprint import Fingerprint, fingerprint_entry
from executor.verified.library import Entry, LibraryError, parse_entry
from executor.verified.live import LiveLibrary, open_live_library
from executor.verified.matcher import Matcher
from executor.verified.store import EntryExists, StoredEntry, VerifiedStore, open_verified_store
from executor.verified.text import TOTAL, Normaliser
from executor.verified.transpile import to_dialect
from executor.warehouse.base import Warehouse
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guarded import guard_to_run

logger = service_logger()

VERIFIED = f"Verified by {MENTION}: questions like this are now answered from this query."
RETIRED = "no longer answers questions; they go to the model again."
# Questions named in a collision refusal; the rest are counted.
NAMED = 3


class Refused(UserFacingError):
    """The review was not carried out; the message says why, for the thread."""


@dataclass(frozen=True)
class ReviewDesk:
    """Carries out review jobs against the live library and its store. `warehouse` opens
    a warehouse for one verification (closed after it): reviews are rare, so none is held.
    The warehouse's first question is the guard's: unsafe SQL is refused as such, whatever
    else is wrong with the entry."""

    library: LiveLibrary
    store: VerifiedStore
    warehouse: Callable[[], Warehouse]
    eval_questions: Path
    today: Callable[[], date] = date.today
    # Where a verification's statements are recorded (none: not recorded).
    audit: AuditTrail | None = None

    def verify(self, review: Review, *, job_id: str, asker: Asker | None = None) -> str:
        """Store the reviewer's entry (`asker` submitted it), or raise Refused; the notice
        for the thread."""
        assert review.proposal is not None, "a verify job carries a proposal"
        proposal = review.proposal
        matcher = self.library.matcher()
        stored = _stored_entry(proposal, review, matcher)
        try:
            entry = parse_entry(stored.to_library(), matcher.library.vocabulary,
                                f"entry {stored.id!r}")
        except LibraryError as e:
            raise Refused(f"Not verified: {e}") from e
        self._check_name(entry.id, matcher)
        warehouse = self._open_warehouse(job_id, asker)
        try:
            _guarded(warehouse, entry)
            with_entry = self.library.with_entry(entry)
            _check_own_questions(entry, with_entry)
            fingerprint = self._fingerprint(warehouse, entry, with_entry)
        finally:
            warehouse.close()
        _check_collisions(entry, matcher, with_entry, self._other_questions(entry, matcher))
        try:
            self.store.put(replace(stored, fingerprint=fingerprint,
                                   answer=answer_template(fingerprint)))
        except EntryExists as e:
            raise Refused(f"Not verified: an entry named `{entry.id}` was stored meanwhile; "
                          "choose another name") from e
        logger.info("job_id=<%s>, entry=<%s> | verified by %s", job_id, entry.id,
                    review.reviewer)
        self.library.refresh()
        return VERIFIED

    def retire(self, review: Review, *, job_id: str) -> str:
        """Retire the entry, or raise Refused; the notice for the thread."""
        entry_id = str(review.entry_id)
        stored = self.store.get(entry_id)
        if stored is not None and not stored.active:
            raise Refused(f"`{entry_id}` was retired already, by {stored.retired_by} "
                          f"on {stored.retired_at}")
        if not any(entry.id == entry_id for entry in self.library.matcher().library.entries):
            raise Refused(f"No verified entry is named `{entry_id}`")
        self.store.retire(entry_id, review.reviewer)
        logger.info("job_id=<%s>, entry=<%s> | retired by %s", job_id, entry_id,
                    review.reviewer)
        self.library.refresh()
        return f"Retired by {MENTION}: `{entry_id}` {RETIRED}"

    def _open_warehouse(self, job_id: str, asker: Asker | None) -> Warehouse:
        warehouse = self.warehouse()
        if self.audit is None:
            return warehouse
        return AuditedWarehouse(warehouse, self.audit, job_id=job_id, asker=asker)

    def _check_name(self, entry_id: str, matcher: Matcher) -> None:
        taken = any(entry.id == entry_id for entry in matcher.library.entries) or any(
            entry.id == entry_id for entry in self.library.static.entries)
        if taken or self.store.get(entry_id) is not None:
            raise Refused(f"Not verified: an entry named `{entry_id}` exists already; "
                          "choose another name")

    def _fingerprint(self, warehouse: Warehouse, entry: Entry, matcher: Matcher) -> Fingerprint:
        """Run the entry's SQL with its question's values bound as the library binds them,
        exactly as the daily check runs it again (fingerprint_entry)."""
        match = matcher.match(entry.question)
        assert match is not None, "checked: the entry answers its own question"
        try:
            return fingerprint_entry(warehouse, entry, match.values, self.today())
        except WarehouseError as e:
            raise Refused(f"Not verified: the SQL failed: {e}") from e

    def _other_questions(self, entry: Entry, matcher: Matcher) -> list[str]:
        """The evaluation set's questions and every existing entry's phrasings."""
        phrasings = [text for other in matcher.library.entries for text in other.phrasings]
        own = {_key(text) for text in entry.phrasings}
        questions = [*read_eval_questions(self.eval_questions), *phrasings]
        return [q for q in dict.fromkeys(questions) if _key(q) not in own]


def open_review_desk(config: EngineConfig) -> ReviewDesk:
    """The review desk on the configured store, library and warehouse."""
    store = open_verified_store(config.verified)
    return ReviewDesk(
        open_live_library(config.verified, store=store),
        store,
        lambda: open_warehouse(config.warehouse),
        config.verified.eval_questions,
        audit=open_audit_trail(config),
    )


def read_eval_questions(path: Path) -> list[str]:
    """The question texts of the evaluation set, `{questions: [{question: ...}, ...]}`;
    none when the file is absent."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return []
    return [str(item["question"]) for item in data.get("questions") or []
            if isinstance(item, dict) and item.get("question")]


def _stored_entry(proposal: Proposal, review: Review, matcher: Matcher) -> StoredEntry:
    return StoredEntry(
        id=proposal.name,
        question=proposal.question,
        paraphrases=proposal.paraphrases,
        intent=intent_of(proposal.question, Normaliser(matcher.library.vocabulary)),
        params={param.name: _param_spec(param) for param in proposal.params},
        sql=proposal.sql,
        explanation=proposal.definition or proposal.question,
        verified_by=review.reviewer,
        verified_at=datetime.now(UTC).date().isoformat(),
        source_job_id=review.source_job_id,
    )


def intent_of(question: str, normaliser: Normaliser) -> dict[str, Any]:
    """The library's intent declaration for what `question` asks, as its parser reads it:
    its metric, grouping and shape, and its statistic when it names one (none named takes
    the library's default: none, or "total", so "number of X" asks what "how many X" does)."""
    meaning = normaliser.parse(question).meaning
    intent: dict[str, Any] = {"metric": [" ".join(sorted(meaning.metric))]}
    if meaning.statistic - {TOTAL}:
        intent["statistic"] = [" ".join(sorted(meaning.statistic))]
    if meaning.grouping:
        intent["grouping"] = sorted(meaning.grouping)
    return intent | {"shape": meaning.shape}


def answer_template(fingerprint: Fingerprint) -> str | None:
    """The sentence a one-row result is answered with, each column named with its value
    ("purchases: **2** in France."); none for more rows, which the table shows."""
    columns = fingerprint.columns
    if fingerprint.row_count != 1 or not all(c.isidentifier() for c in columns):
        return None
    shown = [f"{c.replace('_', ' ')}: **{{{c}{':,' if kind == 'number' else ''}}}**"
             for c, kind in zip(columns, fingerprint.types, strict=True)]
    return "; ".join(shown) + "{filters}."


def _param_spec(param: ReviewParam) -> dict[str, Any]:
    """A detected value as a library parameter the question must give (no default: an
    entry verified for one country never answers for a question that names none)."""
    if param.kind == "enum":
        spec: dict[str, Any] = {"type": "enum", "values": param.source or param.name}
        if spec["values"] == "country":
            spec["label"] = "in {value}"
        return spec
    if param.kind == "int":
        return {"type": "int", "slot": param.source or "top"}
    return {"type": "period"}


def _guarded(warehouse: Warehouse, entry: Entry) -> None:
    """Refused unless the guard the agent's run_sql uses accepts the entry's SQL."""
    try:
        guard_to_run(warehouse, to_dialect(entry.sql, warehouse.dialect))
    except UnsafeSQL as e:
        raise Refused(f"Not verified: the SQL is not safe to run: {e}") from e


def _check_own_questions(entry: Entry, matcher: Matcher) -> None:
    for text in entry.phrasings:
        decision = matcher.decide(text)
        if decision.match is None or decision.match.entry.id != entry.id:
            why = (f"`{decision.match.entry.id}` answers it" if decision.match
                   else decision.reason)
            raise Refused(f"Not verified: the entry would not answer “{text}” ({why}); "
                          "reword it or its parameters")


def _check_collisions(
    entry: Entry, before: Matcher, after: Matcher, questions: list[str]
) -> None:
    changed: list[str] = []
    for question in questions:
        was, now = _answered_by(before, question), _answered_by(after, question)
        if was != now:
            changed.append(f"“{question}” ({was or 'unanswered'} → {now or 'unanswered'})")
    if changed:
        more = f" and {len(changed) - NAMED} more" if len(changed) > NAMED else ""
        raise Refused(f"Not verified: `{entry.id}` would change the answer to "
                      f"{'; '.join(changed[:NAMED])}{more}")


def _answered_by(matcher: Matcher, question: str) -> str | None:
    match = matcher.match(question)
    return match.entry.id if match else None


def _key(text: str) -> str:
    return " ".join(text.lower().split())
