"""`databot sign-activity EVENT.json`: print a sample Teams event whose activity carries a
fresh Bot Framework-style token, signed with a local test key.

    databot sign-activity events/teams_message.json | sam local invoke TeamsMessagesFunction -e -

The key is `--key PEM`, or `<RESULTS_DIR>/teams-keys/signing-key.pem`, generated on first
use together with the documents of a key endpoint beside it (`openidconfiguration` and
`jwks.json`). Serve that folder and point the function's TEAMS_OPENID_METADATA_URL at it:

    python -m http.server 8765 --directory results/teams-keys
    TEAMS_OPENID_METADATA_URL=http://host.docker.internal:8765/openidconfiguration

`--key-url` is the base URL written into the metadata when a key is generated; the default
is the host as `sam local`'s container sees it. The audience is `--app-id`, else
TEAMS_APP_ID, else the bot the activity is addressed to. `-` reads the event from stdin.
Exit codes: 0 printed; 2 the event or key cannot be read, or no app id.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_KEY_URL = "http://host.docker.internal:8765"
KEY_FOLDER = "teams-keys"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", help="an API Gateway / Function URL event file, or - for stdin")
    parser.add_argument("--key", type=Path, metavar="PEM",
                        help=f"the RSA private key to sign with (default: RESULTS_DIR/"
                             f"{KEY_FOLDER}/signing-key.pem, generated on first use)")
    parser.add_argument("--key-url", default=DEFAULT_KEY_URL, metavar="URL",
                        help=f"where a new key's folder will be served (default {DEFAULT_KEY_URL})")
    parser.add_argument("--app-id", help="the bot's app id (default: TEAMS_APP_ID)")


def run(args: argparse.Namespace) -> int:
    from bot.config import Env
    from bot.ingress.local import sign_teams_event
    from executor.config import ArtifactsConfig

    env = Env()
    key_path = args.key or ArtifactsConfig.from_env(env, region=None).results_dir / KEY_FOLDER / (
        "signing-key.pem")
    try:
        text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
        event = json.loads(text)
        if not isinstance(event, dict):
            raise ValueError("not a JSON object")
        signed, metadata_url = sign_teams_event(event, key_path, key_url=args.key_url,
                                           app_id=args.app_id, env=env)
    except (OSError, ValueError) as e:
        print(f"databot sign-activity: cannot sign {args.event}: {e}", file=sys.stderr)
        return 2
    if metadata_url:
        print(f"databot sign-activity: new test key in {key_path.parent}; serve that folder "
              f"at {args.key_url} and set TEAMS_OPENID_METADATA_URL={metadata_url}",
              file=sys.stderr)
    print(json.dumps(signed, indent=2))
    return 0
