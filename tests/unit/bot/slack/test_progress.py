"""Progress on the placeholder: sent off the engine's thread, at most one chat.update per
interval, the latest held stage wins, nothing after close."""

from __future__ import annotations

import threading
import time

from bot.job import ReplyTo
from bot.slack.replier import SlackReplier, ThrottledStatus, web_client
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import wait_for


def no_timer_pending() -> bool:
    """No held stage is waiting to be sent (every status timer thread has ended)."""
    return not any(isinstance(t, threading.Timer) for t in threading.enumerate())


def status_for(slack_api: SlackApiStandIn, interval_s: float) -> ThrottledStatus:
    replier = SlackReplier(web_client(slack_api.token, slack_api.url))
    placeholder = ReplyTo(kind="slack", channel="C1", message="1.000001")
    return ThrottledStatus(replier, placeholder, job_id="j", interval_s=interval_s)


def test_updates_are_throttled_and_the_latest_stage_is_shown(slack_api: SlackApiStandIn) -> None:
    # GIVEN progress at most every 0.5 s, and a first stage already shown
    status = status_for(slack_api, 0.5)
    status("Reading the schema")
    wait_for(lambda: slack_api.count("chat.update") == 1, 2, "the first stage")
    shown_at = time.monotonic()
    # WHEN four more stages arrive at once
    for stage in ("Running SQL", "Running SQL (2nd try)", "Running SQL (3rd try)",
                  "Drawing a chart"):
        status(stage)
    # THEN only the latest follows, once the interval is over
    wait_for(lambda: slack_api.count("chat.update") == 2, 2, "the held stage")
    assert time.monotonic() - shown_at >= 0.45
    texts = [c.args["text"] for c in slack_api.calls_to("chat.update")]
    assert texts == [":hourglass_flowing_sand: Reading the schema",
                     ":hourglass_flowing_sand: Drawing a chart"]
    wait_for(no_timer_pending, 2, "no stage held")
    assert slack_api.count("chat.update") == 2


def test_reporting_a_stage_does_not_wait_for_slack(slack_api: SlackApiStandIn) -> None:
    slack_api.fail_next("chat.update", status=429, retry_after=1)
    status = status_for(slack_api, 0)
    started = time.monotonic()
    status("Reading the schema")
    assert time.monotonic() - started < 0.2
    wait_for(lambda: len(slack_api.accepted("chat.update")) == 1, 5, "the retried update")


def test_nothing_is_sent_after_close(slack_api: SlackApiStandIn) -> None:
    status = status_for(slack_api, 0.2)
    status("Reading the schema")
    wait_for(lambda: slack_api.count("chat.update") == 1, 2, "the first stage")
    status("Running SQL")
    status.close()
    status("Drawing a chart")
    wait_for(no_timer_pending, 2, "the held stage's timer to end")
    assert slack_api.count("chat.update") == 1


def test_a_failed_update_does_not_fail_the_job(slack_api: SlackApiStandIn) -> None:
    slack_api.fail_next("chat.update", error="message_not_found")
    status = status_for(slack_api, 0)
    status("Reading the schema")
    wait_for(lambda: slack_api.count("chat.update") == 1, 2, "the failed update")
    status("Running SQL")
    wait_for(lambda: slack_api.count("chat.update") == 2, 2, "the next update")
    assert [(c.response or {}).get("ok") for c in slack_api.calls_to("chat.update")] == [
        False, True]
