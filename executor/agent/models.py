"""Bedrock models: the client, and the fallback chain that retries, backs off and moves on.

Throttling, unavailability, a model not ready yet and timeouts are retried with exponential
back-off and jitter; when a model keeps failing that way, the next model in MODEL_IDS takes
over for the rest of the job. A request a model refuses outright (validation, access,
unknown model) goes to the next model at once, without retrying.

A streamed turn (`converse_stream`) follows the same rules, including for the errors
ConverseStream sends inside the stream (throttlingException, modelStreamErrorException...):
text it already showed is discarded before the turn is tried again (executor.agent.streaming).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from bot.delivery import Draft
from bot.observability import service_logger
from executor.agent.caching import PromptCache
from executor.agent.streaming import TextGate, read_stream
from executor.config import ModelConfig
from executor.errors import ModelThrottled, ModelUnavailable, ModelUnreachable

logger = service_logger()

# Codes that say who is asking may not use the model, or is not who they claim to be.
DENIED_CODES = frozenset({
    "AccessDeniedException",
    "UnrecognizedClientException",
    "ExpiredTokenException",
    "InvalidSignatureException",
})
RETRYABLE_CODES = frozenset({
    "ThrottlingException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
    "ModelTimeoutException",
    "InternalServerException",
    # Sent inside a ConverseStream stream when the model failed mid-answer.
    "ModelStreamErrorException",
})


class ConverseClient(Protocol):
    """Anything with Converse's methods: a bedrock-runtime client, or a scripted model."""

    def converse(self, **request: Any) -> dict[str, Any]: ...

    def converse_stream(self, **request: Any) -> dict[str, Any]: ...


_clients: dict[tuple[str | None, float, float], Any] = {}
_clients_lock = threading.Lock()


def bedrock_client(config: ModelConfig) -> Any:
    """The process's bedrock-runtime client for this model config, created on first use.

    botocore's own retries are off: the chain decides between retrying a model and
    moving on to the next one. The endpoint follows AWS_ENDPOINT_URL_BEDROCK_RUNTIME as
    boto3 does.
    """
    key = (config.region, config.connect_timeout_s, config.read_timeout_s)
    with _clients_lock:
        if key not in _clients:
            client_config = Config(
                connect_timeout=config.connect_timeout_s,
                read_timeout=config.read_timeout_s,
                retries={"total_max_attempts": 1, "mode": "standard"},
            )
            try:
                _clients[key] = boto3.client(
                    "bedrock-runtime", region_name=config.region, config=client_config
                )
            except NoRegionError as e:
                raise _unavailable("Bedrock needs an AWS region: set AWS_REGION") from e
            except ProfileNotFound as e:
                raise _unavailable(
                    f"AWS_PROFILE names a profile that does not exist ({e})"
                ) from e
        return _clients[key]


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per model, and full-jitter exponential back-off between them."""

    attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int) -> float:
        """A random wait up to base * 2^(attempt-1), capped at max_delay_s."""
        return min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)) * self.jitter()


@dataclass(frozen=True)
class _Failure:
    model_id: str
    reason: str
    # "busy" (throttled, not ready), "unreachable" (no connection), "denied" or "refused".
    kind: str


class ModelChain:
    """One job's pass along MODEL_IDS: once a model is given up, it stays given up. Each
    model gets the request with the cache points it takes (`cache`)."""

    def __init__(
        self, client: ConverseClient, model_ids: Sequence[str], policy: RetryPolicy, job_id: str,
        *, cache: PromptCache | None = None,
    ) -> None:
        if not model_ids:
            raise ValueError("the model chain needs at least one model id (MODEL_IDS)")
        self._client = client
        self._model_ids = list(model_ids)
        self._policy = policy
        self._job_id = job_id
        self._cache = cache or PromptCache()
        self._failures: list[_Failure] = []

    def converse(self, **request: Any) -> tuple[dict[str, Any], str]:
        """Converse with the current model, falling back along the chain.

        Returns the response and the id of the model that produced it. Raises
        ModelThrottled when the models ran out while some were only busy, ModelUnavailable
        when every model refused the request.
        """
        return self._along(lambda model_id: self._client.converse(
            modelId=model_id, **self._cache.for_model(model_id, request)))

    def converse_stream(self, draft: Draft, **request: Any) -> tuple[dict[str, Any], str]:
        """`converse` through ConverseStream, the turn's text shown in `draft` under the
        hold-back rule; returns the response `converse` would have."""

        def streamed(model_id: str) -> dict[str, Any]:
            gate = TextGate(draft)
            try:
                response = self._client.converse_stream(
                    modelId=model_id, **self._cache.for_model(model_id, request))
                return read_stream(response["stream"], gate)
            except Exception:
                gate.abandon()
                raise

        return self._along(streamed)

    def _along(self, call: Callable[[str], dict[str, Any]]) -> tuple[dict[str, Any], str]:
        while len(self._failures) < len(self._model_ids):
            model_id = self._model_ids[len(self._failures)]
            outcome = self._try(model_id, call)
            if isinstance(outcome, _Failure):
                self._failures.append(outcome)
                continue
            return outcome, model_id
        raise _chain_error(self._failures)

    def _try(self, model_id: str, call: Callable[[str], dict[str, Any]]
             ) -> dict[str, Any] | _Failure:
        policy = self._policy
        for attempt in range(1, policy.attempts + 1):
            try:
                return call(model_id)
            except ClientError as e:
                error = e.response.get("Error", {})
                code = _service_code(error.get("Code"))
                reason = f"{error.get('Code')}: {error.get('Message')}"
                if code not in RETRYABLE_CODES:
                    logger.error("job_id=<%s>, model=<%s> | model refused the request, moving "
                                 "to the next model: %s", self._job_id, model_id, reason)
                    denied = code in DENIED_CODES
                    return _Failure(model_id, reason, "denied" if denied else "refused")
                kind = "busy"
            except (HTTPClientError, ConnectionError) as e:
                reason, kind = f"{type(e).__name__}: {e}", "unreachable"
            except (NoCredentialsError, PartialCredentialsError) as e:
                # No model can be reached without credentials: say so instead of falling back.
                raise _unavailable(f"no usable AWS credentials for Bedrock ({e})") from e
            if attempt < policy.attempts:
                delay = policy.delay(attempt)
                logger.warning("job_id=<%s>, model=<%s>, attempt=<%s> | %s; retrying in %.2fs",
                               self._job_id, model_id, attempt, reason, delay)
                policy.sleep(delay)
        logger.warning("job_id=<%s>, model=<%s> | still failing after %s attempts, moving to "
                       "the next model: %s", self._job_id, model_id, policy.attempts, reason)
        return _Failure(model_id, reason, kind)


def _service_code(code: object) -> str:
    """An error code as Converse names it: ConverseStream's in-stream errors are spelled
    as the stream's members (throttlingException for ThrottlingException)."""
    text = str(code or "")
    return text[:1].upper() + text[1:]


def _chain_error(failures: list[_Failure]) -> Exception:
    """One line naming why no model answered: busy, unreachable, not allowed, or refused."""
    summary = "; ".join(f"{f.model_id}: {f.reason}" for f in failures)
    kinds = {f.kind for f in failures}
    if "busy" in kinds:
        return ModelThrottled(f"every model is busy right now ({summary})")
    if "unreachable" in kinds:
        return ModelUnreachable(
            f"Bedrock could not be reached: check the network, AWS_REGION and any "
            f"AWS_ENDPOINT_URL ({summary})"
        )
    if kinds == {"denied"}:
        return _unavailable(
            f"the AWS identity may not use these models: check its credentials and its "
            f"bedrock:InvokeModel permission and model access ({summary})"
        )
    return _unavailable(f"no model in MODEL_IDS accepted the request ({summary})")


def _unavailable(detail: str) -> ModelUnavailable:
    """The error for the person, with what to fix logged for the operator."""
    logger.error("no model can answer: %s", detail)
    return ModelUnavailable(detail)
