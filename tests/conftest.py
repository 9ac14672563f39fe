"""Shared fixtures live in tests/support/<area>.py; each is registered here as a plugin."""

pytest_plugins: list[str] = [
    "tests.support.scripted_model",
    "tests.support.slack_api",
    "tests.support.aws",
    "tests.support.postgres",
    "tests.support.worker",
    "tests.support.signing",
    "tests.support.logs",
    "tests.support.ingress",
    "tests.support.sandbox",
    "tests.support.verified",
    "tests.support.xray",
    "tests.support.metrics",
    "tests.support.takeover",
    "tests.support.teams_auth",
    "tests.support.teams_connector",
    "tests.support.cli",
]
