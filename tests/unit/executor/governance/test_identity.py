"""IDENTITY_MAP: the rule, explicit entries (inline and from a file), strict names, and
errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError
from executor.governance.identity import IdentityMap, valid_db_user


def _never() -> str | None:
    raise AssertionError("the email was looked up although the user id decides")


def test_the_email_rule_maps_the_local_part_after_the_prefix() -> None:
    identities = IdentityMap.parse("email_local:db_")
    assert identities.db_user("U0001", lambda: "Ana.Lopez@Example.com") == "db_ana_lopez"
    assert identities.db_user("U0002", lambda: "bo--o'brien+x@example.com") == "db_bo_o_brien_x"


def test_the_rule_with_domains_maps_those_domains_only() -> None:
    identities = IdentityMap.parse("email_local:db_@example.com, email_local:db_@corp.example.org")
    assert identities.db_user("U1", lambda: "ana@example.com") == "db_ana"
    assert identities.db_user("U2", lambda: "bo@corp.example.org") == "db_bo"
    assert identities.db_user("U3", lambda: "ana@evil.example.net") is None


def test_explicit_entries_win_and_a_user_id_needs_no_email() -> None:
    identities = IdentityMap.parse("email_local:db_,U0001=db_ana, Bo@Example.com=db_robert")
    assert identities.db_user("U0001", _never) == "db_ana"
    assert identities.db_user("U0002", lambda: "bo@example.com") == "db_robert"
    assert identities.db_user("U0003", lambda: "cy@example.com") == "db_cy"


def test_without_an_email_or_a_match_nobody_is_mapped() -> None:
    assert IdentityMap.parse("email_local:db_").db_user("U0001", lambda: None) is None
    assert IdentityMap.parse("U0001=db_ana").db_user("U0002", _never) is None


def test_a_name_the_rule_cannot_make_valid_maps_nobody() -> None:
    identities = IdentityMap.parse("email_local:")
    assert identities.db_user("U1", lambda: "1ana@example.com") is None
    assert identities.db_user("U2", lambda: "postgres@example.com") is None
    assert identities.db_user("U3", lambda: f"{'a' * 64}@example.com") is None


def test_entries_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "identities.yaml"
    path.write_text("U0001: db_ana\nbo@example.com: db_bo\n")
    identities = IdentityMap.parse(f"{path},U0003=db_cy")
    assert identities.explicit == {"U0001": "db_ana", "bo@example.com": "db_bo",
                                   "U0003": "db_cy"}


@pytest.mark.parametrize("text", [
    "U0001=Ana", "U0001=db ana", "U0001=db_ana;drop", "U0001=pg_monitor", "U0001=rdsdb",
    "U0001=", "=db_ana", "email_local:DB_", "email_local:db-", "email_local:db_@nodomain",
    "email_local:a_,email_local:b_", "just-a-word", " , ",
])  # fmt: skip
def test_malformed_maps_are_config_errors_naming_the_variable(text: str) -> None:
    with pytest.raises(ConfigError, match="IDENTITY_MAP"):
        IdentityMap.parse(text)


def test_an_unreadable_or_malformed_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IDENTITY_MAP: cannot read"):
        IdentityMap.parse(str(tmp_path / "missing.yaml"))
    listed = tmp_path / "list.yml"
    listed.write_text("- db_ana\n")
    with pytest.raises(ConfigError, match="must map"):
        IdentityMap.parse(str(listed))


@pytest.mark.parametrize(("name", "valid"), [
    ("db_ana", True), ("_x", True), ("a" * 63, True), ("a" * 64, False), ("Ana", False),
    ("9a", False), ("a-b", False), ('a"b', False), ("pg_read_all_data", False),
    ("postgres", False), ("", False),
])  # fmt: skip
def test_database_user_names_are_strict(name: str, valid: bool) -> None:
    assert valid_db_user(name) is valid
