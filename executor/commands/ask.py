"""`databot ask "QUESTION"`: answer one question in this process, on the configured (or
embedded default) warehouse, engine and artifact store.

Prints the answer, its SQL, the table preview, and the paths or links of its chart and
files; `--json` prints the Answer as JSON instead. `--list` prints every verified question.

Exit codes: 0 answered (a refusal to change data and a reply to small talk are answers);
3 the question needs a model and none is configured (stdout: the closest questions
answered now; stderr: how to configure Bedrock); 1 any other error (one line on stderr);
2 a bad command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.answer import Answer
    from executor.config import EngineConfig

EXIT_ANSWERED = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NEEDS_MODEL = 3


def list_questions(out: TextIO, config: EngineConfig) -> int:
    """Every verified question (the library's and those verified from chat), with its entry
    id: what is answered without a model."""
    from executor.verified.live import open_live_library

    library = open_live_library(config.verified).library
    for entry in library.entries:
        print(f"{entry.question}  ({entry.id})", file=out)
    print(f"\n{len(library.entries)} verified questions; each is also understood in other "
          "words and for other countries or periods.", file=out)
    return EXIT_ANSWERED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", type=_question, nargs="?", help="the question, in quotes")
    parser.add_argument("--json", action="store_true", help="print the Answer as JSON")
    parser.add_argument(
        "--list", action="store_true", help="list every question answered without a model"
    )
    parser.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the date relative periods count back from (default: the real date)",
    )
    parser.add_argument("--verbose", action="store_true", help="log progress to stderr")


def run(args: argparse.Namespace) -> int:
    from bot.config import Env
    from executor.config import EngineConfig

    if args.list:
        return list_questions(sys.stdout, EngineConfig.from_env(Env()))
    if args.question is None:
        print("databot ask: give a question, or --list", file=sys.stderr)
        return EXIT_USAGE
    return ask(
        args.question,
        EngineConfig.from_env(Env()),
        as_json=args.json,
        today=args.today,
        verbose=args.verbose,
    )


def ask(
    question: str,
    config: EngineConfig,
    *,
    as_json: bool = False,
    today: date | None = None,
    verbose: bool = False,
    bedrock_client: Any = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Answer `question` and print it; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    with logs_on_stderr(verbose):
        return _ask(question, config, as_json, today, bedrock_client, out, err)


def _ask(
    question: str,
    config: EngineConfig,
    as_json: bool,
    today: date | None,
    bedrock_client: Any,
    out: TextIO,
    err: TextIO,
) -> int:
    from executor.errors import DatabotError
    from executor.warehouse.factory import open_warehouse

    job_id = f"ask-{uuid.uuid4().hex[:12]}"
    try:
        warehouse = open_warehouse(config.warehouse, warm=False)
    except (DatabotError, ValueError) as e:
        return _fail(err, f"cannot open the warehouse: {e}")
    # Imported while the warehouse starts.
    from bot.asker import Asker
    from bot.observability import service_name
    from bot.render_terminal import render_answer
    from executor.artifacts.keys import scratch_dir
    from executor.engine import Request
    from executor.errors import NeedsModel, UserFacingError
    from executor.governance.audit_trail import open_audit_trail
    from executor.jsonable import jsonable
    from executor.router import build_engine
    audit = open_audit_trail(config)
    try:
        engine = build_engine(
            config,
            warehouse=warehouse,
            bedrock_client=bedrock_client,
            today=(lambda: today) if today else date.today,
            audit=audit,
        )
        answer = engine.answer(Request(job_id=job_id, question=question, progress=_progress(err),
                                       asker=Asker.local()))
    except NeedsModel as e:
        from executor.agent.configure import how_to_configure

        payload = {"needs_model": True, "message": str(e), "suggestions": e.suggestions}
        print(json.dumps(payload, indent=2) if as_json else str(e), file=out)
        print(how_to_configure(config.model), file=err)
        return EXIT_NEEDS_MODEL
    except UserFacingError as e:
        return _fail(err, e.detail)
    except (DatabotError, ValueError) as e:
        return _fail(err, str(e))
    except Exception:
        logging.getLogger(service_name()).exception("job_id=<%s> | ask failed", job_id)
        return _fail(err, f"something went wrong (ref {job_id})")
    finally:
        warehouse.close()
        audit.flush()
        # Charts are drawn in a scratch folder, then stored; only the stored copies remain.
        shutil.rmtree(scratch_dir(job_id), ignore_errors=True)
    _forget_scratch_paths(answer)
    if as_json:
        print(json.dumps(jsonable(answer.to_dict()), indent=2, ensure_ascii=False), file=out)
    else:
        print(render_answer(answer), end="", file=out)
    return EXIT_ANSWERED


def _forget_scratch_paths(answer: Answer) -> None:
    """Point each chart at its stored copy: the scratch folder it was drawn in is gone."""
    for chart in answer.charts:
        chart.path = chart.url or chart.path


class _CurrentStderr:
    """Writes to whatever sys.stderr is when a record is logged."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@contextmanager
def logs_on_stderr(verbose: bool) -> Iterator[None]:
    """Keep stdout for the answer: while it runs, the service's logs go to stderr, warnings
    only unless --verbose; the logger is put back as it was afterwards."""
    from bot.observability import service_logger, service_name

    service_logger()  # it must exist, with its handlers, before they are pointed at stderr
    std = logging.getLogger(service_name())
    handlers = [h for h in std.handlers if isinstance(h, logging.StreamHandler)]
    level, streams = std.level, [handler.stream for handler in handlers]
    std.setLevel(logging.INFO if verbose else logging.WARNING)
    # Assigned rather than setStream(), which flushes the old stream first.
    for handler in handlers:
        handler.stream = _CurrentStderr()
    try:
        yield
    finally:
        std.setLevel(level)
        for handler, stream in zip(handlers, streams, strict=True):
            handler.stream = stream


def _progress(err: TextIO) -> Callable[[str], None]:
    def show(stage: str) -> None:
        if err.isatty():
            print(f"… {stage}", file=err, flush=True)

    return show


def _fail(err: TextIO, message: str) -> int:
    print(f"databot ask: {message}", file=err)
    return EXIT_ERROR


def _question(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the question is empty")
    return text.strip()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-11-20, got {text!r}") from e
