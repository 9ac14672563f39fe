"""The platform-neutral progress throttle: off the caller's thread, at most one update per
interval, the latest held stage wins, nothing after close, failures only logged."""

from __future__ import annotations

import time

from bot.delivery import Unavailable
from bot.progress import ThrottledProgress
from tests.support.worker import wait_for


class Recorded(ThrottledProgress):
    def __init__(self, interval_s: float, *, failing: int = 0) -> None:
        super().__init__(job_id="j", interval_s=interval_s)
        self.shown: list[tuple[str, float]] = []
        self.failing = failing

    def _show(self, stage: str) -> None:
        if self.failing:
            self.failing -= 1
            raise Unavailable("throttled")
        self.shown.append((stage, time.monotonic()))


def test_the_latest_held_stage_is_shown_once_the_interval_is_over() -> None:
    progress = Recorded(0.3)
    progress("Reading the schema")
    wait_for(lambda: len(progress.shown) == 1, 2, "the first stage")
    for stage in ("Running SQL", "Running SQL (2nd try)", "Drawing a chart"):
        progress(stage)
    wait_for(lambda: len(progress.shown) == 2, 2, "the held stage")
    (first, first_at), (latest, latest_at) = progress.shown
    assert (first, latest) == ("Reading the schema", "Drawing a chart")
    assert latest_at - first_at >= 0.25


def test_nothing_is_shown_after_close() -> None:
    progress = Recorded(0.2)
    progress("Reading the schema")
    wait_for(lambda: len(progress.shown) == 1, 2, "the first stage")
    progress("Running SQL")
    progress.close()
    progress("Drawing a chart")
    time.sleep(0.4)
    assert [stage for stage, _ in progress.shown] == ["Reading the schema"]


def test_a_failed_update_is_logged_and_the_next_goes_out() -> None:
    progress = Recorded(0, failing=1)
    started = time.monotonic()
    progress("Reading the schema")
    assert time.monotonic() - started < 0.2
    time.sleep(0.1)
    progress("Running SQL")
    wait_for(lambda: len(progress.shown) == 1, 2, "the next stage")
    assert progress.shown[0][0] == "Running SQL"
