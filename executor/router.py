"""The engine every caller uses: the verified library first, then the model.

A question the library matches above its threshold is answered from it (exact, instant,
free). Anything else goes to the Bedrock agent when MODEL_PROVIDER=bedrock, with the
closest verified entries in its prompt as worked examples; with MODEL_PROVIDER=offline it
raises NeedsModel, whose message says how to configure Bedrock and what can be asked now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.answer import Answer
from executor.artifacts import ArtifactStore, open_artifact_store
from executor.engine import Engine, Request
from executor.errors import NeedsModel
from executor.settings import Settings
from executor.verified.engine import VerifiedEngine
from executor.verified.library import Library, load_library
from executor.warehouse.base import Warehouse
from executor.warehouse.factory import open_warehouse

PROVIDERS = ("bedrock", "offline")


class RoutedEngine:
    def __init__(
        self, verified: VerifiedEngine, model_factory: Callable[[], Engine] | None
    ) -> None:
        self.verified = verified
        self._model_factory = model_factory
        self._model: Engine | None = None
        self._lock = threading.Lock()  # the worker answers jobs on several threads

    @property
    def uses_model(self) -> bool:
        return self._model_factory is not None

    def answer(self, request: Request) -> Answer:
        try:
            return self.verified.answer(request)
        except NeedsModel:
            if self._model_factory is None:
                raise
            factory = self._model_factory
        # Out of the except block, so the model's own errors are not chained to NeedsModel.
        return self._model_engine(factory).answer(request)

    def _model_engine(self, factory: Callable[[], Engine]) -> Engine:
        """The agent, built on the first question that needs it: a library answer never
        depends on the model's configuration (region, client) being right."""
        with self._lock:
            if self._model is None:
                self._model = factory()
            return self._model


def build_engine(
    settings: Settings,
    *,
    warehouse: Warehouse | None = None,
    artifacts: ArtifactStore | None = None,
    bedrock_client: Any = None,
    library: Library | None = None,
    today: Callable[[], date] = date.today,
) -> RoutedEngine:
    """The configured engine. `library` and `today` default to input/verified_queries.yaml
    and the real date; tests pass their own."""
    if settings.model_provider not in PROVIDERS:
        raise ValueError(
            f"MODEL_PROVIDER must be one of {', '.join(PROVIDERS)}, got {settings.model_provider!r}"
        )
    warehouse = warehouse or open_warehouse(settings)
    artifacts = artifacts or open_artifact_store(settings)
    verified = VerifiedEngine(
        library or load_library(), warehouse, artifacts, settings=settings, today=today
    )
    if settings.model_provider != "bedrock":
        return RoutedEngine(verified, None)

    def model() -> Engine:
        from executor.agent import create_agent

        return create_agent(
            settings, warehouse, artifacts, client=bedrock_client, examples=verified.examples
        )

    return RoutedEngine(verified, model)
