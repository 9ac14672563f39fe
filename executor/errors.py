"""The domain's exceptions. The worker decides retry or reply by their class alone."""


class DatabotError(Exception):
    """Base of every error databot raises on purpose."""


class UserFacingError(DatabotError):
    """A permanent problem the person can act on; its message is shown in the thread as is.

    `detail` is the operator's version (the CLI prints it, logs carry it); it is the message
    itself unless the set-up advice in it is not for a chat thread.
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


class TransientError(DatabotError):
    """A passing failure (throttling, network, a 5xx): the job is retried later."""


class UnsafeSQL(UserFacingError):
    """The SQL guard refused a statement; the message is the one-line reason."""


class TooCostly(UnsafeSQL):
    """The warehouse's plan for a statement exceeds a cost limit (MAX_QUERY_COST,
    MAX_SCAN_ROWS); nothing ran. The message names the estimate, the limit and what to try."""


class WarehouseError(UserFacingError):
    """The database rejected a query (unknown column, timeout, ...)."""


class NeedsModel(UserFacingError):
    """The offline engine cannot answer this question; a model (Bedrock) is needed.

    Its message is for the person asking: what is missing and the closest questions that
    can be answered now. How to configure the model is for operators only (the CLI prints
    it, the worker logs it), never for a chat thread.
    """

    def __init__(self, suggestions: list[str]) -> None:
        self.suggestions = suggestions
        lines = "".join(f"\n  • {question}" for question in suggestions)
        super().__init__(
            "This question needs the AI model, which is not configured here; an admin can "
            "enable it." + (f" Questions I can answer now:{lines}" if suggestions else "")
        )


class ModelThrottled(TransientError):
    """Every model in the fallback chain is throttled or unavailable right now."""


class ModelUnreachable(TransientError):
    """No model in the chain could be reached at all (network, DNS, endpoint): not "busy"."""


class ModelUnavailable(UserFacingError):
    """No model in the fallback chain accepts the request (access denied, unknown id, a
    profile or region missing). The person reads that the model is unavailable; what to fix
    is in `detail`, for the operator."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "The AI model is not available here right now; an admin can check its set-up.",
            detail=detail,
        )


class BudgetExceeded(DatabotError):
    """A per-job budget (turns, tokens, wall time) was reached."""
