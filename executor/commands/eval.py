"""`databot eval [FILE]`: run the golden question set through the full engine and score it.

Each question goes through the engine `databot ask` uses (the verified library first,
then the model) and is scored by execution against its gold SQL (docs/evaluation.md).
Offline (MODEL_PROVIDER=offline, or no AWS credentials) only the verified library
answers: the questions it cannot answer count as not answered. `--models A,B` runs the
set once per Bedrock model id (each alone, no fallback) and compares them. Writes
report.md and report.json to --output (default: <RESULTS_DIR>/eval), with the runs'
files under its artifacts/ folder.

Exit codes: 0 evaluated (and at or above --min-accuracy); 1 the evaluation could not run
(a malformed questions file, a gold SQL that fails, the warehouse; one line on stderr);
2 a bad command line; 3 a run's accuracy is below --min-accuracy.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from executor.config import EngineConfig
    from executor.evaluation.golden import GoldenQuestion
    from executor.evaluation.harness import Run

EXIT_EVALUATED = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BELOW_THRESHOLD = 3
OFFLINE_LABEL = "verified library (offline)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        nargs="?",
        help="the questions file (default: input/eval/questions.yaml)",
    )
    parser.add_argument(
        "--models",
        type=_models,
        metavar="A,B",
        help="Bedrock model ids: run the set once per model and compare them",
    )
    parser.add_argument(
        "--min-accuracy",
        type=_fraction,
        metavar="0.8",
        help="exit non-zero when a run's execution accuracy is below this (0 to 1)",
    )
    parser.add_argument(
        "--output", type=Path, metavar="DIR", help="where report.md and report.json go"
    )
    parser.add_argument(
        "--category",
        type=_categories,
        metavar="C",
        help="only the questions of these categories (comma-separated)",
    )
    parser.add_argument("--verbose", action="store_true", help="log progress to stderr")


def run(args: argparse.Namespace) -> int:
    from bot.config import Env
    from executor.config import EngineConfig
    from executor.evaluation.golden import DEFAULT_QUESTIONS

    config = EngineConfig.from_env(Env())
    return evaluate(
        args.file or DEFAULT_QUESTIONS,
        config,
        models=args.models or (),
        min_accuracy=args.min_accuracy,
        output=args.output or config.artifacts.results_dir / "eval",
        categories=args.category or (),
        verbose=args.verbose,
    )


def evaluate(
    path: Path,
    config: EngineConfig,
    *,
    models: tuple[str, ...] = (),
    min_accuracy: float | None = None,
    output: Path,
    categories: tuple[str, ...] = (),
    verbose: bool = False,
    bedrock_client: Any = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Evaluate the questions of `path`, write the report to `output`; the exit code."""
    from executor.commands.ask import logs_on_stderr

    out, err = out or sys.stdout, err or sys.stderr
    with logs_on_stderr(verbose):
        return _evaluate(path, config, models, min_accuracy, output, categories,
                         bedrock_client, out, err)


def _evaluate(
    path: Path,
    config: EngineConfig,
    models: tuple[str, ...],
    min_accuracy: float | None,
    output: Path,
    categories: tuple[str, ...],
    bedrock_client: Any,
    out: TextIO,
    err: TextIO,
) -> int:
    from executor.access import SharedAccess
    from executor.artifacts import LocalArtifactStore
    from executor.errors import DatabotError
    from executor.evaluation.golden import GoldenFileError, load_golden
    from executor.evaluation.harness import gold_results, run_questions
    from executor.evaluation.report import summarize, write_report
    from executor.router import build_engine
    from executor.warehouse.factory import open_warehouse

    try:
        questions = _selected(load_golden(path), categories)
    except GoldenFileError as e:
        return _fail(err, str(e))
    if not questions:
        return _fail(err, f"no questions of {', '.join(categories)} in {path}")
    try:
        warehouse = open_warehouse(config.warehouse)
    except (DatabotError, ValueError) as e:
        return _fail(err, f"cannot open the warehouse: {e}")
    # The runs' answers keep their files beside the report, whatever RESULTS_BUCKET says.
    artifacts = LocalArtifactStore(output / "artifacts")
    runs: list[Run] = []
    try:
        gold = gold_results(questions, warehouse)
        for number, (label, run_config) in enumerate(_runs(config, models), start=1):
            # As the worker's own user whatever IDENTITY_MODE says: the answers are scored
            # against gold results read that way.
            engine = build_engine(
                run_config, warehouse=warehouse, artifacts=artifacts,
                bedrock_client=bedrock_client, access=SharedAccess(warehouse),
            )
            runs.append(run_questions(questions, engine, warehouse, gold, label=label,
                                      job_prefix=f"eval{number}"))
    except GoldenFileError as e:
        return _fail(err, f"{path}: {e}")
    except (DatabotError, ValueError) as e:
        return _fail(err, str(e))
    finally:
        warehouse.close()
    markdown, data = write_report(runs, output)
    below = False
    for summary in map(summarize, runs):
        print(
            f"{summary.label}: execution accuracy {100 * summary.accuracy:.1f}% "
            f"({summary.correct} of {summary.questions}), verified hits "
            f"{summary.verified_hits}, not answered {summary.not_answered}, errors "
            f"{summary.errors}, ${summary.cost_usd:.4f}",
            file=out,
        )
        if min_accuracy is not None and summary.accuracy < min_accuracy:
            below = True
            print(f"databot eval: {summary.label}: accuracy {summary.accuracy:.3f} is below "
                  f"--min-accuracy {min_accuracy}", file=err)
    print(f"report: {markdown} and {data}", file=out)
    return EXIT_BELOW_THRESHOLD if below else EXIT_EVALUATED


def _selected(
    questions: list[GoldenQuestion], categories: tuple[str, ...]
) -> list[GoldenQuestion]:
    if not categories:
        return questions
    return [question for question in questions if question.category in categories]


def _runs(config: EngineConfig, models: tuple[str, ...]) -> list[tuple[str, EngineConfig]]:
    """(label, config) per run: the configured engine, or one Bedrock run per model."""
    if not models:
        label = OFFLINE_LABEL if config.model.provider == "offline" else ", ".join(
            config.model.model_ids
        )
        return [(label, config)]
    return [
        (model, replace(config, model=replace(config.model, provider="bedrock",
                                              model_ids=(model,))))
        for model in models
    ]


def _fail(err: TextIO, message: str) -> int:
    print(f"databot eval: {message}", file=err)
    return EXIT_ERROR


def _models(text: str) -> tuple[str, ...]:
    models = tuple(model.strip() for model in text.split(",") if model.strip())
    if not models:
        raise argparse.ArgumentTypeError("give one or more model ids, comma-separated")
    return models


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value


def _categories(text: str) -> tuple[str, ...]:
    from executor.evaluation.golden import CATEGORIES

    chosen = tuple(category.strip() for category in text.split(",") if category.strip())
    unknown = [category for category in chosen if category not in CATEGORIES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"categories are {', '.join(CATEGORIES)}; got {text!r}"
        )
    return chosen
