"""The Slack ingress Lambda's request path: read the event, verify its signature, check the
payload's shape, then Bolt.

Bolt is handed the request directly: its Lambda adapter would import boto3 (for lazy
listeners, which databot does not use) on every cold start.

Every request gets an answer below 500 unless a listener's own work fails (SQS or DynamoDB
down), because Slack retries 5xx: unsigned → 401, signed but not a Slack payload → 400 with
a log line, Slack's ignorable notices → 200.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.config import Env
from bot.ingress.http_events import BadEvent, HttpRequest, json_response, parse_http_event
from bot.observability import service_logger
from bot.slack.app import app_from_env
from bot.slack.config import SlackConfig
from bot.slack.listeners import RETRY_NUM_HEADER
from bot.slack.payloads import IGNORED_KINDS, MalformedPayload, bolt_readable, check_payload
from bot.slack.signing import is_signed

logger = service_logger()


class SlackIngress:
    def __init__(self, app: App, signing_secret: str) -> None:
        self._bolt = app
        self._signing_secret = signing_secret

    @classmethod
    def from_env(cls, env: Env) -> SlackIngress:
        """The ingress the environment describes: the Slack Lambda's one settings read."""
        slack = SlackConfig.from_env(env).with_secrets()
        slack.require(signing_secret=True)
        return cls(app_from_env(slack, env), str(slack.signing_secret))

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Answer one API Gateway (HTTP API, payload 2.0) or Function URL event."""
        try:
            request = parse_http_event(event)
        except BadEvent:
            logger.warning("rejected a request whose body cannot be decoded")
            return _not_signed()  # an unreadable body cannot carry a valid signature
        if request.method != "POST":
            return json_response(405, {"error": "Slack requests are POSTs"})
        if not is_signed(self._signing_secret, request.headers, request.raw_body):
            logger.warning(
                "rejected a request without a valid Slack signature, retry=<%s>",
                request.header(RETRY_NUM_HEADER),
            )
            return _not_signed()
        try:
            body = bolt_readable(request.text(), request.header("content-type"))
            kind = check_payload(body, request.header("content-type"))
        except (BadEvent, MalformedPayload) as e:
            logger.warning(
                "rejected a signed request that is not a Slack payload: %s, bytes=<%s>",
                e,
                request.body_bytes,
            )
            return json_response(400, {"error": "request body is not a Slack payload"})
        if kind in IGNORED_KINDS:
            logger.info("acknowledged a %s notice, nothing to do", kind)
            return json_response(200, {})
        return _lambda_response(self._bolt.dispatch(bolt_request(request, body, event)))


def bolt_request(request: HttpRequest, body: str, event: dict[str, Any]) -> BoltRequest:
    """The request as Bolt reads it: body already decoded, headers lower-cased."""
    return BoltRequest(body=body, query=dict(event.get("queryStringParameters") or {}),
                       headers={**request.headers, "cookie": list(event.get("cookies") or [])})


def _lambda_response(response: BoltResponse) -> dict[str, Any]:
    return {"statusCode": response.status, "body": response.body,
            "headers": response.first_headers()}


def _not_signed() -> dict[str, Any]:
    return json_response(401, {"error": "invalid request signature"})
