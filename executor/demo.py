"""`make demo` (python -m executor.demo): three sample questions through `databot ask`, on
the configured warehouse and engine — by default DuckDB over input/, the local results/
folder and the verified-query library, so it needs no AWS account and no network."""

from __future__ import annotations

import sys
import time

from bot.config import Env
from executor.commands.ask import EXIT_ANSWERED, ask
from executor.config import EngineConfig

QUESTIONS = (
    "How many users signed up each month?",
    "What is revenue by plan?",
    "How many users have never made a purchase?",
)
RULE = "=" * 78


def main() -> int:
    config = EngineConfig.from_env(Env())
    print(
        f"databot demo · warehouse {_safe_url(config.warehouse.url)}"
        f" · engine {config.model.provider} · results in {config.artifacts.results_dir}/"
    )
    started = time.perf_counter()
    failed = 0
    for question in QUESTIONS:
        print(f"\n{RULE}\n$ databot ask {question!r}\n{RULE}\n", flush=True)
        failed += ask(question, config) != EXIT_ANSWERED
    print(
        f"\n{len(QUESTIONS) - failed} of {len(QUESTIONS)} answered in "
        f'{time.perf_counter() - started:.1f} s. Ask your own: .venv/bin/databot ask "..."'
    )
    return 1 if failed else 0


def _safe_url(url: str) -> str:
    """The warehouse URL without any user name or password in it."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


if __name__ == "__main__":
    sys.exit(main())
