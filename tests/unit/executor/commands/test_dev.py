"""`databot dev` without JOBS_QUEUE_URL: moto's local resources serve the queue, tables and
bucket, and nothing else; Bedrock keeps the developer's credentials, or no model is used."""

from __future__ import annotations

import boto3
import pytest

from executor.commands.dev import local_aws_settings
from tests.support.local_aws import LocalStack

ENDPOINT = "http://127.0.0.1:50123"
STACK = LocalStack(
    endpoint=ENDPOINT, queue_url=f"{ENDPOINT}/123456789012/databot-jobs-1", dlq_url="",
    dlq_arn="", jobs_table="databot-jobs-1", conversations_table="databot-conversations-1",
    idempotency_table="databot-idempotency-1", feedback_table="databot-feedback-1",
    bucket="databot-results-1",
).env


def test_without_credentials_moto_placeholders_fill_in_and_no_model_is_used() -> None:
    # GIVEN a developer with no AWS credentials and no model settings
    settings = local_aws_settings(STACK, {})
    # THEN the queue, tables and bucket are moto's, reached through their own endpoints
    assert settings["JOBS_QUEUE_URL"] == STACK["JOBS_QUEUE_URL"]
    assert settings["IDEMPOTENCY_TABLE"] == "databot-idempotency-1"
    assert settings["FEEDBACK_TABLE"] == "databot-feedback-1"  # votes are recorded locally too
    assert {settings[f"AWS_ENDPOINT_URL_{s}"] for s in ("SQS", "DYNAMODB", "S3")} == {ENDPOINT}
    assert "AWS_ENDPOINT_URL" not in settings
    # AND moto's placeholder credentials are used, with no model (not Bedrock with them)
    assert settings["AWS_ACCESS_KEY_ID"] == "testing" and settings["AWS_REGION"] == "us-east-1"
    assert settings["MODEL_PROVIDER"] == "offline"
    # (a model provider chosen by the developer stands)
    assert local_aws_settings(STACK, {"MODEL_PROVIDER": "bedrock"})["MODEL_PROVIDER"] == "bedrock"


def test_the_developers_credentials_and_region_still_reach_bedrock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a developer with an AWS profile and region for Bedrock
    environ = {"AWS_PROFILE": "analytics", "AWS_REGION": "eu-west-1"}
    settings = local_aws_settings(STACK, environ)
    # THEN neither moto's credentials nor its region replace theirs, and the model stays theirs
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(settings)
    assert not {"AWS_REGION", "AWS_DEFAULT_REGION", "MODEL_PROVIDER"} & set(settings)
    # AND boto3 sends SQS to moto but Bedrock to AWS
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="eu-west-1"
    )
    assert session.client("sqs").meta.endpoint_url == ENDPOINT
    assert session.client("bedrock-runtime").meta.endpoint_url == (
        "https://bedrock-runtime.eu-west-1.amazonaws.com"
    )
