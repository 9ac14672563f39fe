"""The shared ingress's settings from the environment."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Env
from bot.ingress.config import IngressConfig
from bot.job_store import JobsConfig


def test_defaults_need_no_environment() -> None:
    config = IngressConfig.from_env(Env({}))

    assert config.jobs == JobsConfig(queue_url=None, table=None, ttl_days=30)
    assert (config.max_question_chars, config.max_body_bytes) == (4000, 16 * 1024)
    assert (config.idempotency_ttl_s, config.in_progress_expiry_s) == (3600, 30)


def test_everything_is_read_from_the_environment() -> None:
    config = IngressConfig.from_env(Env({
        "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/jobs",
        "JOBS_TABLE": "jobs",
        "JOB_TTL_DAYS": "7",
        "IDEMPOTENCY_TABLE": "idem",
        "MAX_QUESTION_CHARS": "500",
        "MAX_BODY_BYTES": "2048",
        "IDEMPOTENCY_TTL_S": "600",
        "IN_PROGRESS_EXPIRY_S": "10",
    }))

    assert config.jobs == JobsConfig("https://sqs.us-east-1.amazonaws.com/1/jobs", "jobs", 7)
    assert config.idempotency_table == "idem"
    assert (config.max_question_chars, config.max_body_bytes) == (500, 2048)
    assert (config.idempotency_ttl_s, config.in_progress_expiry_s) == (600, 10)


@pytest.mark.parametrize("value", ["zero", "0", "-3", "4k"])
def test_a_malformed_number_names_the_setting(value: str) -> None:
    with pytest.raises(
        ConfigError, match=f"MAX_QUESTION_CHARS must be a whole number >= 1, got '{value}'"
    ):
        IngressConfig.from_env(Env({"MAX_QUESTION_CHARS": value}))


def test_the_jobs_queue_and_table_are_required_by_name() -> None:
    with pytest.raises(ConfigError, match=r"^missing settings: JOBS_QUEUE_URL, JOBS_TABLE$"):
        JobsConfig().require()
    with pytest.raises(ConfigError, match=r"^missing settings: JOBS_TABLE$"):
        JobsConfig(queue_url="q").require()
    JobsConfig(table="jobs").require(queue=False)
