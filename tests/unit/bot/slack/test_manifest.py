"""slack/manifest.yaml: only the scopes the code uses, the events the listeners handle, the
/ask command, and one request URL (the stack's SlackRequestUrl) everywhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from bot.slack.config import SlackConfig
from tests.support.paths import REPO

# The Web API methods the code calls, and the bot scope each needs.
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "files_upload_v2": "files:write",
    "assistant_threads_setStatus": "assistant:write",
    "assistant_threads_setSuggestedPrompts": "assistant:write",
    "assistant_threads_setTitle": "assistant:write",
    "conversations_info": "channels:read",
    "usergroups_users_list": "usergroups:read",
    "users_info": "users:read",
}
# Further scopes a method needs for a field the code reads.
FIELD_SCOPES = {"users_info": {"users:read.email"}}
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history",
                "assistant_thread_started": "assistant:write",
                "assistant_thread_context_changed": "assistant:write"}
# Events Bolt's Assistant middleware routes, and the registration that handles each.
ASSISTANT_LISTENERS = {"assistant_thread_started": "assistant.thread_started(",
                       "assistant_thread_context_changed": "assistant.thread_context_changed("}
# Reading a thread or channel back needs the history scope of every conversation type.
READ_METHODS = ("conversations_replies", "conversations_history")
READ_SCOPES = {"channels:history", "groups:history", "im:history", "mpim:history"}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text()))


def test_scopes_are_exactly_what_the_code_uses(manifest: dict[str, Any]) -> None:
    sources = "\n".join(p.read_text() for p in (REPO / "bot").rglob("*.py"))
    called = {method for method in METHOD_SCOPES if re.search(rf"\.{method}\(", sources)}
    assert {"chat_postMessage", "files_upload_v2"} <= called
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    needed = {METHOD_SCOPES[m] for m in called} | {EVENT_SCOPES[e] for e in events} | {"commands"}
    needed |= {scope for m in called for scope in FIELD_SCOPES.get(m, ())}
    if any(re.search(rf"\.{method}\(", sources) for method in READ_METHODS):
        needed |= READ_SCOPES
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(needed)


def test_events_are_the_ones_the_listeners_handle(manifest: dict[str, Any]) -> None:
    listeners = (REPO / "bot" / "slack" / "listeners.py").read_text()
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        registration = ASSISTANT_LISTENERS.get(event, f'app.event("{event.split(".")[0]}")')
        assert registration in listeners, event
    # message.im only: subscribing to channel messages would deliver every message.
    assert "message.channels" not in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_the_command_is_the_ingress_default(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == SlackConfig().slash_command == "/ask"


def test_one_request_url_placeholder_everywhere(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = {
        manifest["features"]["slash_commands"][0]["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    (url,) = urls
    assert url.startswith("https://REQUEST_URL.") and url.endswith("/slack/events")
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True


def _without_socket_mode_differences(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest less what legitimately differs between the deployed app and the local
    one: names, request URLs (Socket Mode has none) and the Socket Mode switch."""
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(manifest))
    del copy["display_information"]
    del copy["features"]["bot_user"]["display_name"]
    for command in copy["features"].get("slash_commands", []):
        command.pop("url", None)
    settings = copy["settings"]
    for section in ("event_subscriptions", "interactivity"):
        settings[section].pop("request_url", None)
    del settings["socket_mode_enabled"]
    return copy


def test_the_dev_manifest_is_the_app_over_socket_mode(manifest: dict[str, Any]) -> None:
    # GIVEN the app for local development (databot dev)
    dev = yaml.safe_load((REPO / "slack" / "manifest.dev.yaml").read_text())
    # THEN it connects over Socket Mode, so it has no request URL anywhere
    assert dev["settings"]["socket_mode_enabled"] is True
    assert "REQUEST_URL" not in (REPO / "slack" / "manifest.dev.yaml").read_text()
    # AND its scopes, events, command and interactivity are the deployed app's: an event or
    # scope added to one manifest must be added to the other
    assert _without_socket_mode_differences(dev) == _without_socket_mode_differences(manifest)
