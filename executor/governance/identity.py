"""Who a person is in the warehouse: IDENTITY_MAP turns an asker into a database user name.

IDENTITY_MAP is a comma-separated list of entries, each one of:

- `email_local:PREFIX` or `email_local:PREFIX@DOMAIN` — the rule: the local part of the
  person's profile email, lower-cased, every character other than a-z, 0-9 and `_` made
  `_`, after PREFIX (`email_local:db_` maps ana.lopez@example.com to `db_ana_lopez`).
  With `@DOMAIN` only emails at that domain are mapped (repeat the entry for more domains).
- `KEY=USER` — an explicit entry: KEY is a platform user id (Slack `U0001`, a Teams AAD
  object id, the CLI's login name) or an email address (it holds `@`; case-insensitive).
- a path ending in `.yaml` or `.yml` — explicit entries from a file: a mapping of KEY to USER.

Explicit entries win over the rule, a user id over an email. Every mapped name must be a
plain database identifier (a-z, 0-9, `_`, starting with a letter or `_`, at most 63
characters, not a system name): it becomes the database identity a question runs as, so
anything else is refused, never quoted through. A malformed IDENTITY_MAP is a ConfigError
naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ConfigError

VARIABLE = "IDENTITY_MAP"
RULE = "email_local:"
# PostgreSQL's NAMEDATALEN less one; Redshift allows more, the stricter bound holds on both.
MAX_NAME = 63
_NAME = re.compile(rf"[a-z_][a-z0-9_]{{0,{MAX_NAME - 1}}}")
_PREFIX = re.compile(r"[a-z_][a-z0-9_]*|")
_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
# Names a person must never become: the superusers and the system's own roles.
_RESERVED = ("rdsdb", "postgres", "public", "root", "admin")
_SYSTEM_PREFIXES = ("pg_",)


def valid_db_user(name: str) -> bool:
    """Whether `name` is a plain, non-system database user name."""
    return (
        _NAME.fullmatch(name) is not None
        and name not in _RESERVED
        and not name.startswith(_SYSTEM_PREFIXES)
    )


@dataclass(frozen=True)
class EmailLocalRule:
    """`email_local:PREFIX[@DOMAIN]`: the email's local part, sanitised, after PREFIX."""

    prefix: str
    # Emails at these domains only; empty: any domain.
    domains: frozenset[str] = frozenset()

    def db_user(self, email: str) -> str | None:
        local, at, domain = email.strip().lower().rpartition("@")
        if not at or not local or (self.domains and domain not in self.domains):
            return None
        name = self.prefix + re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", local)).strip("_")
        return name if valid_db_user(name) else None


@dataclass(frozen=True)
class IdentityMap:
    # Platform user ids as given, emails lower-cased → database user.
    explicit: Mapping[str, str] = field(default_factory=dict)
    rule: EmailLocalRule | None = None

    @property
    def uses_email(self) -> bool:
        """Whether a mapping may need the person's email (then it is looked up)."""
        return self.rule is not None or any("@" in key for key in self.explicit)

    def db_user(self, user_id: str, email: Callable[[], str | None]) -> str | None:
        """The database user of the person `user_id`; `email` reads their profile email,
        called only when the user id alone does not decide."""
        if user_id in self.explicit:
            return self.explicit[user_id]
        if not self.uses_email:
            return None
        address = (email() or "").strip().lower()
        if not address:
            return None
        if address in self.explicit:
            return self.explicit[address]
        return self.rule.db_user(address) if self.rule is not None else None

    @classmethod
    def parse(cls, text: str) -> IdentityMap:
        explicit: dict[str, str] = {}
        prefixes: dict[str, set[str]] = {}
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            if entry.startswith(RULE):
                prefix, domain = _rule(entry)
                prefixes.setdefault(prefix, set()).update([domain] if domain else [])
            elif "=" in entry:
                key, user = (part.strip() for part in entry.split("=", 1))
                _add(explicit, key, user, entry)
            elif entry.endswith((".yaml", ".yml")):
                for key, user in _file_entries(Path(entry)).items():
                    _add(explicit, key, user, f"{entry}: {key}")
            else:
                raise ConfigError(
                    f"{VARIABLE} entry {entry!r} is none of email_local:PREFIX[@DOMAIN], "
                    "KEY=USER or a .yaml file"
                )
        if len(prefixes) > 1:
            raise ConfigError(f"{VARIABLE} may hold one email_local prefix, got "
                              f"{', '.join(sorted(prefixes))}")
        rule = None
        for prefix, domains in prefixes.items():
            rule = EmailLocalRule(prefix, frozenset(domains))
        if not explicit and rule is None:
            raise ConfigError(f"{VARIABLE} maps nobody: give email_local:PREFIX, KEY=USER "
                              "entries or a .yaml file")
        return cls(explicit, rule)


def _rule(entry: str) -> tuple[str, str | None]:
    prefix, at, domain = entry.removeprefix(RULE).partition("@")
    if _PREFIX.fullmatch(prefix) is None:
        raise ConfigError(f"{VARIABLE}: the prefix in {entry!r} must be lower-case letters, "
                          "digits and _, starting with a letter or _")
    if at and _DOMAIN.fullmatch(domain) is None:
        raise ConfigError(f"{VARIABLE}: {domain!r} in {entry!r} is not a domain")
    return prefix, domain if at else None


def _add(explicit: dict[str, str], key: str, user: str, where: str) -> None:
    if not key:
        raise ConfigError(f"{VARIABLE}: {where!r} names no user id or email")
    if not valid_db_user(user):
        raise ConfigError(
            f"{VARIABLE}: {where!r} maps to {user!r}, not a valid database user (a-z, 0-9 "
            f"and _, starting with a letter or _, at most {MAX_NAME} characters, not a "
            "system name)"
        )
    explicit[key.lower() if "@" in key else key] = user


def _file_entries(path: Path) -> dict[str, str]:
    import yaml  # only for a map kept in a file

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{VARIABLE}: cannot read {path}: {e}") from e
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(f"{VARIABLE}: {path} must map user ids or emails to database users")
    return data
