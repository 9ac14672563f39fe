"""The engine every caller uses: scope first, then the verified library, then the model.

A request to change data, or a message that is not a question (hello, thanks, what can you
do), is answered at once in plain words (see `executor.scope`): no model, no query. A
question the library matches is answered from it (exact, instant, free); the library is
the static file plus the entries reviewers verified from chat (executor/verified/live.py).
Anything else goes to the Bedrock agent when MODEL_PROVIDER=bedrock, with the closest
verified entries in its prompt as worked examples, and its answer carries the entry a
reviewer would verify from it (`Answer.proposal`); with MODEL_PROVIDER=offline it
raises NeedsModel with the closest questions that can be answered now, and logs for the
operator how to configure a model.

Spend limits (executor/governance/budgets.py) apply to the asker's model answers only: a
question whose asker reached a limit gets that said in plain words before any model call,
verified answers are given (and counted) whatever was spent, and an answer past 80 % of a
limit says so in its footer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from bot.answer import Answer
from bot.observability import service_logger
from bot.review import Proposal
from executor.access import SharedAccess, WarehouseAccess
from executor.artifacts import ArtifactStore, open_artifact_store
from executor.config import EngineConfig
from executor.engine import Engine, Request
from executor.errors import NeedsModel
from executor.governance.audit_trail import AuditTrail, open_audit_trail
from executor.governance.audited import AuditedAccess
from executor.governance.budgets import Allowance, Budgets, Standing, open_budgets
from executor.scope import READ_ONLY_REPLY, SMALL_TALK_REPLY, Scope, classify
from executor.verified.answerer import VerifiedEngine
from executor.verified.library import Library
from executor.verified.live import open_live_library
from executor.verified.proposal import propose
from executor.verified.store import VerifiedStore
from executor.warehouse.base import Warehouse
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guard import is_read_only

logger = service_logger()

PROVIDERS = ("bedrock", "offline")
SCOPE_REPLIES = {Scope.WRITE_REQUEST: READ_ONLY_REPLY, Scope.SMALL_TALK: SMALL_TALK_REPLY}


class RoutedEngine:
    def __init__(
        self,
        verified: VerifiedEngine,
        model_factory: Callable[[], Engine] | None,
        access: WarehouseAccess | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.verified = verified
        # Spend limits and the ledger they read; None: no limits, nothing counted.
        self.budgets = budgets
        # Which warehouse each request runs on (by default the one the library uses).
        self.access = access or SharedAccess(verified.warehouse)
        self._model_factory = model_factory
        self._model: Engine | None = None
        self._lock = threading.Lock()  # the worker answers jobs on several threads

    @property
    def uses_model(self) -> bool:
        return self._model_factory is not None

    def answer(self, request: Request) -> Answer:
        reply = SCOPE_REPLIES.get(classify(request.question))
        if reply is not None:
            return self._scope_answer(reply, request.question)
        with self.access.session(request) as warehouse:
            answer = self._answer(replace(request, warehouse=warehouse))
        answer.notes.extend(request.notes)
        return answer

    def _answer(self, request: Request) -> Answer:
        allowance = self.budgets.allowance(request.asker) if self.budgets else None
        try:
            return _counted(self.verified.answer(request), allowance, request.job_id)
        except NeedsModel:
            if self._model_factory is None:
                logger.info(
                    "job_id=<%s> | no verified query matches and no model is configured: "
                    "set MODEL_PROVIDER=bedrock with AWS credentials, AWS_REGION and MODEL_IDS",
                    request.job_id,
                )
                raise
            factory = self._model_factory
        # Out of the except block, so the model's own errors are not chained to NeedsModel.
        reached = allowance.refusal() if allowance else None
        if reached is not None:
            logger.info("job_id=<%s> | refused: %s", request.job_id, reached.reason())
            return self._over_budget(reached, request.question)
        try:
            answer = self._model_engine(factory).answer(replace(request, allowance=allowance))
        finally:
            if allowance:
                allowance.release()
        answer.proposal = self._proposal(request, answer)
        return _counted(answer, allowance, request.job_id)

    def _proposal(self, request: Request, answer: Answer) -> Proposal | None:
        """The entry a reviewer would verify from this answer; never fails the answer."""
        verified = self.verified
        try:
            return propose(verified.library.matcher(), request.question, answer,
                           dialect=verified.warehouse.dialect, today=verified.today())
        except Exception:
            logger.exception("job_id=<%s> | could not propose a verified entry", request.job_id)
            return None

    def _scope_answer(self, reply: str, question: str) -> Answer:
        return Answer(text=reply + self._examples(question))

    def _over_budget(self, reached: Standing, question: str) -> Answer:
        """The limit reached, and the verified questions still answered (they are free)."""
        examples = self._examples(question)
        free = " Questions answered from verified queries are free and still work:" \
            if examples else ""
        return Answer(text=reached.refusal() + free + examples)

    def _examples(self, question: str) -> str:
        """The closest verified questions, as a list."""
        return "".join(f"\n  • {q}" for q in self.verified.suggestions(question)[:3])

    def warm_up(self) -> None:
        """Load now what the first question would: the SQL dialect the guard parses, and
        the agent (built, no call to the model). An agent that cannot be built is left to
        the first question that needs it, as without warming: library answers never
        depend on the model's configuration being right."""
        is_read_only("SELECT 1", self.verified.warehouse.dialect)
        if self._model_factory is None:
            return
        try:
            self._model_engine(self._model_factory)
        except Exception:
            logger.warning("could not build the agent at start; the first question that "
                           "needs it tries again", exc_info=True)

    def _model_engine(self, factory: Callable[[], Engine]) -> Engine:
        """The agent, built on the first question that needs it (or by `warm_up`): a
        library answer never depends on the model's configuration (region, client) being
        right."""
        with self._lock:
            if self._model is None:
                self._model = factory()
            return self._model


def build_engine(
    config: EngineConfig,
    *,
    warehouse: Warehouse | None = None,
    artifacts: ArtifactStore | None = None,
    bedrock_client: Any = None,
    library: Library | None = None,
    store: VerifiedStore | None = None,
    today: Callable[[], date] = date.today,
    access: WarehouseAccess | None = None,
    budgets: Budgets | None = None,
    audit: AuditTrail | None = None,
) -> RoutedEngine:
    """The configured engine. `library`, `store` and `today` default to
    input/verified_queries.yaml, the configured store of entries verified from chat
    (VERIFIED_TABLE or the results folder) and the real date; tests pass their own.
    `access` chooses each request's warehouse (by default IDENTITY_MODE's: everyone shares
    `warehouse`, or each asker runs as their own database user), and every statement run on
    it is recorded in `audit` (by default the configured trail); `budgets` are the spend
    limits (by default the configured ones)."""
    provider = config.model.provider
    if provider not in PROVIDERS:
        raise ValueError(
            f"MODEL_PROVIDER must be one of {', '.join(PROVIDERS)}, got {provider!r}"
        )
    warehouse = warehouse or open_warehouse(config.warehouse)
    if access is None and config.identity.mode == "per_user":
        from executor.governance.identity_warehouse import open_per_user_access

        access = open_per_user_access(config)
    artifacts = artifacts or open_artifact_store(config.artifacts)
    live = open_live_library(config.verified, library=library, store=store)
    verified = VerifiedEngine(live, warehouse, artifacts, today=today)
    budgets = budgets or open_budgets(config.budgets, config.artifacts.results_dir)
    access = AuditedAccess(access or SharedAccess(warehouse), audit or open_audit_trail(config))
    if provider != "bedrock":
        return RoutedEngine(verified, None, access, budgets)

    def model() -> Engine:
        from executor.agent import create_agent

        return create_agent(
            config.model,
            config.sandbox,
            warehouse,
            artifacts,
            client=bedrock_client,
            examples=verified.examples,
        )

    return RoutedEngine(verified, model, access, budgets)


def _counted(answer: Answer, allowance: Allowance | None, job_id: str) -> Answer:
    """`answer`, counted against its asker's budgets, with a note past 80 % of a limit. An
    answer given is never failed by its bookkeeping (a retry would pay for it again)."""
    if allowance is None:
        return answer
    try:
        allowance.answered(answer)
        if not answer.verified:
            answer.notes += allowance.notes()
    except Exception:
        logger.exception("job_id=<%s> | could not count the answer's spend", job_id)
    return answer


def build_warm_engine(config: EngineConfig) -> RoutedEngine:
    """The worker's engine: the configured one (its warehouse opened warm), with what its
    first question needs loaded before the first job."""
    engine = build_engine(config)
    engine.warm_up()
    return engine
