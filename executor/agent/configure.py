"""How to give databot a model: the advice shown when no engine can answer a question."""

from __future__ import annotations

from executor.config import ModelConfig


def how_to_configure(model: ModelConfig) -> str:
    """Steps to configure Amazon Bedrock; `databot ask` prints them (exit 3) when the verified
    queries cannot answer and no model is configured."""
    models = ",".join(model.model_ids)
    return (
        "To answer any question, configure Amazon Bedrock:\n"
        "  - AWS credentials: AWS_PROFILE=<profile>, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY;\n"
        "  - AWS_REGION: a region where your account has access to the models "
        "(e.g. us-east-1);\n"
        f"  - MODEL_IDS (optional), tried in order: {models};\n"
        "  - MODEL_PROVIDER=bedrock when the credentials come from somewhere databot does not "
        "look (it checks the variables above and the container's role).\n"
        "With MODEL_PROVIDER=offline, databot answers the verified questions in "
        "input/verified_queries.yaml only."
    )
