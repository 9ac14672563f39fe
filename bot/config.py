"""Reading settings from the environment: one parser and one error for every deployable.

Each deployable (the ingress Lambdas, the worker, the CLI) reads its settings in one place
through `Env`, which turns a variable into a typed value or raises `ConfigError` naming
the variable and the value it holds. An unset or empty variable takes its default.
Secrets Manager JSON secrets (the Slack credentials, the Redshift password) are read by
`read_json_secret`, which builds its client only when called: the ingress Lambdas import this
module on a cold start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

Number = TypeVar("Number", int, float)

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it (and its value, unless the
    value is secret)."""


class Env:
    """Typed getters over the environment, or over any mapping given instead."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = os.environ if values is None else values

    @overload
    def text(self, name: str, default: str) -> str: ...

    @overload
    def text(self, name: str, default: None = None) -> str | None: ...

    def text(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name) or default

    @overload
    def integer(
        self, name: str, default: int, *, minimum: int = 1, maximum: int | None = None
    ) -> int: ...

    @overload
    def integer(
        self, name: str, default: None, *, minimum: int = 1, maximum: int | None = None
    ) -> int | None: ...

    def integer(
        self, name: str, default: int | None, *, minimum: int = 1, maximum: int | None = None
    ) -> int | None:
        """A whole number within the bounds (both inclusive)."""
        raw, value = self._converted(name, int)
        if raw is None:
            return default
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise ConfigError(f"{name} must be a whole number {_bounds(minimum, maximum)}, "
                              f"got {raw!r}")
        return value

    def number(
        self, name: str, default: float, *, minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A number within the bounds (both inclusive); without `minimum`, above 0."""
        raw, value = self._converted(name, float)
        if raw is None:
            return default
        low_ok = value is not None and (value > 0 if minimum is None else value >= minimum)
        if value is None or not low_ok or (maximum is not None and value > maximum):
            bounds = "above 0" if minimum is None else _bounds(minimum, maximum)
            raise ConfigError(f"{name} must be a number {bounds}, got {raw!r}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.strip().lower() in TRUE:
            return True
        if raw.strip().lower() in FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return value

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list, blanks dropped."""
        return tuple(part.strip() for part in (self.text(name) or "").split(",") if part.strip())

    def ids(self, name: str) -> frozenset[str]:
        """A comma-separated set of ids (an allowlist: empty allows everyone)."""
        return frozenset(self.items(name))

    def _converted(
        self, name: str, kind: Callable[[str], Number]
    ) -> tuple[str | None, Number | None]:
        """The variable's text and its value as `kind`, None when it is not one."""
        raw = self.text(name)
        try:
            return raw, None if raw is None else kind(raw)
        except ValueError:
            return raw, None

    def aws_region(self) -> str | None:
        """AWS_REGION, else AWS_DEFAULT_REGION, as boto3 reads them."""
        return self.text("AWS_REGION") or self.text("AWS_DEFAULT_REGION")


def require(settings: Mapping[str, object]) -> None:
    """Raise ConfigError naming every setting (its name → its value) that is not set."""
    missing = [name for name, value in settings.items() if not value]
    if missing:
        raise ConfigError(f"missing settings: {', '.join(missing)}")


def read_json_secret(
    secret_arn: str, *, client: Any = None, region: str | None = None
) -> dict[str, Any]:
    """The JSON object stored in the Secrets Manager secret `secret_arn`. The secret's
    text never appears in an error."""
    if client is None:
        from bot.aws_clients import new_client

        client = new_client("secretsmanager", region_name=region)
    raw = client.get_secret_value(SecretId=secret_arn).get("SecretString")
    try:
        secret = json.loads(raw)
    except (TypeError, ValueError):
        # `from None`: the decoder's message could quote part of the secret.
        secret = None
    if not isinstance(secret, dict):
        raise ConfigError(f"secret {secret_arn} is not a JSON object") from None
    return secret


def _bounds(minimum: float, maximum: float | None) -> str:
    return f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
