"""A local stand-in for Bot Framework's token signing: an RSA key, the OpenID metadata and key
set that publish it, and activity events carrying a token signed with it.

For the tests, `databot sign-activity` and `sam local invoke`: the front door is pointed at
the local metadata through TEAMS_OPENID_METADATA_URL and checks these tokens exactly as it
checks Bot Framework's. Never loaded by the front door itself (it imports `cryptography`'s
key generation).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.teams.auth import ALGORITHM
from bot.teams.config import CHANNEL_ID, TOKEN_ISSUER

METADATA_FILE = "openidconfiguration"
JWKS_FILE = "jwks.json"


@dataclass(frozen=True)
class LocalSigningKey:
    kid: str
    private_pem: bytes

    @classmethod
    def generate(cls, kid: str | None = None) -> LocalSigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return cls(kid or f"local-{uuid.uuid4().hex[:12]}", pem)

    def jwk(self, endorsements: tuple[str, ...] | None = (CHANNEL_ID,)) -> dict[str, Any]:
        """The public half as Bot Framework's key set lists it."""
        private = serialization.load_pem_private_key(self.private_pem, password=None)
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))  # type: ignore[arg-type]
        data.update(kid=self.kid, use="sig")
        if endorsements is not None:
            data["endorsements"] = list(endorsements)
        return dict(data)

    def token(
        self,
        *,
        app_id: str,
        service_url: str,
        issuer: str = TOKEN_ISSUER,
        now: float | None = None,
        lifetime_s: int = 3600,
        **claims: Any,
    ) -> str:
        """A token as Bot Framework signs one for an activity to the bot `app_id`."""
        issued = int(time.time() if now is None else now)
        payload = {"iss": issuer, "aud": app_id, "serviceurl": service_url,
                   "nbf": issued, "iat": issued, "exp": issued + lifetime_s, **claims}
        return jwt.encode(payload, self.private_pem, algorithm=ALGORITHM,
                          headers={"kid": self.kid})


def openid_metadata(jwks_uri: str) -> dict[str, Any]:
    """The OpenID metadata document, shaped as Bot Framework's."""
    return {"issuer": TOKEN_ISSUER, "jwks_uri": jwks_uri,
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"]}


def sign_activity_event(event: Mapping[str, Any], key: LocalSigningKey, *, app_id: str,
                        now: float | None = None) -> dict[str, Any]:
    """A copy of the Lambda event (API Gateway HTTP API or Function URL) whose activity now
    carries `Authorization: Bearer <token>` for its own `serviceUrl`. ValueError when the
    body is not an activity with a serviceUrl."""
    body = event.get("body")
    activity = json.loads(body) if isinstance(body, str) and not event.get(
        "isBase64Encoded") else None
    service_url = activity.get("serviceUrl") if isinstance(activity, dict) else None
    if not isinstance(service_url, str):
        raise ValueError("the event's body is not an activity with a serviceUrl")
    headers = {k: v for k, v in (event.get("headers") or {}).items()
               if k.lower() != "authorization"}
    token = key.token(app_id=app_id, service_url=service_url, now=now)
    return {**event, "headers": {**headers, "authorization": f"Bearer {token}"}}


def write_key_endpoint(key_path: Path, key: LocalSigningKey, base_url: str) -> None:
    """The key at `key_path` and, beside it, the documents of a key endpoint: serve that
    folder at `base_url` (e.g. `python -m http.server`) and point TEAMS_OPENID_METADATA_URL
    at `<base_url>/openidconfiguration`."""
    folder = key_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_pem)
    key_path.chmod(0o600)
    (folder / JWKS_FILE).write_text(json.dumps({"keys": [key.jwk()]}, indent=2))
    metadata = openid_metadata(f"{base_url.rstrip('/')}/{JWKS_FILE}")
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2))


def load_key(path: Path) -> LocalSigningKey:
    """A PEM private key saved by `write_key_endpoint` (its key id is the one in the key
    set beside it, when there is one; else the file's name without its suffix)."""
    pem = path.read_bytes()
    jwks = path.parent / JWKS_FILE
    kid = path.stem
    if jwks.exists():
        keys = json.loads(jwks.read_text()).get("keys") or [{}]
        kid = keys[0].get("kid") or kid
    return LocalSigningKey(kid, pem)
