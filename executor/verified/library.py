"""The verified-query library: input/verified_queries.yaml, loaded and checked.

Loading refuses a library with any mistake a person could make while editing it (a
missing field, an id used twice, SQL that does not parse as Redshift or uses a
placeholder no parameter binds, an unknown value list, an intent naming a word of the
wrong kind) and names the entry and field.

An entry's `intent` declaration becomes the meanings it answers (metric, statistic,
grouping, shape), read with the same parser as questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import product
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from executor.charts.spec import KINDS as CHART_KINDS
from executor.charts.spec import ChartSpec
from executor.config import DEFAULT_INPUT
from executor.verified.periods import ALL_TIME, Period, parse_period
from executor.verified.text import SHAPES, Meaning, Normaliser, Vocabulary, singular, words

DEFAULT_LIBRARY = DEFAULT_INPUT / "verified_queries.yaml"
PARAM_TYPES = ("enum", "period", "int")
# Fields every entry of the file must fill; an entry verified from chat may have no
# paraphrases yet.
REQUIRED = ("id", "question", "paraphrases", "sql", "explanation", "verified_by")


class LibraryError(ValueError):
    """The library file is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an entry. A period binds :start_date and :end_date (end exclusive);
    an enum or int binds :<name>. `default` None means the question must give it."""

    name: str
    type: str
    default: Any = None
    # enum: the vocabulary value list it draws from; int: the slot it takes ("top").
    source: str = ""
    minimum: int = 1
    maximum: int = 100
    # enum: how the answer names the filter, e.g. "in {value}".
    label: str = "for {source} {value}"

    @property
    def slot_kind(self) -> str:
        return "period" if self.type == "period" else self.source

    @property
    def bind_names(self) -> tuple[str, ...]:
        return ("start_date", "end_date") if self.type == "period" else (self.name,)


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    paraphrases: tuple[str, ...]
    sql: str
    explanation: str
    verified_by: str
    verified_at: date
    params: tuple[ParamSpec, ...] = ()
    chart: ChartSpec | None = None
    # A format string over the first result row's columns, {last[column]} (the last row),
    # {filters} (the values applied, in words) and {rows} (how many rows in all).
    answer: str | None = None
    # What the entry answers (filters and period handling are its params); empty when
    # undeclared, and the matcher then takes what its own phrasings ask.
    meanings: frozenset[Meaning] = frozenset()

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)


@dataclass(frozen=True)
class Library:
    entries: tuple[Entry, ...]
    vocabulary: Vocabulary

    def get(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


def load_library(path: Path = DEFAULT_LIBRARY) -> Library:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise LibraryError(f"{path}: cannot read the library: {e}") from e
    return parse_library(data, source=str(path))


def parse_library(data: Any, source: str = "library") -> Library:
    if not isinstance(data, dict):
        raise LibraryError(f"{source}: expected a mapping with 'vocabulary' and 'entries'")
    vocabulary = _vocabulary(data.get("vocabulary") or {}, source)
    normaliser = Normaliser(vocabulary)
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise LibraryError(f"{source}: 'entries' must be a non-empty list")
    entries: list[Entry] = []
    for index, raw in enumerate(raw_entries):
        where = f"{source}: entry {raw.get('id') if isinstance(raw, dict) else index!r}"
        entry = _entry(raw, normaliser, where)
        if any(e.id == entry.id for e in entries):
            raise LibraryError(f"{where}: id used twice")
        entries.append(entry)
    return Library(tuple(entries), vocabulary)


def _vocabulary(data: Any, source: str) -> Vocabulary:
    synonyms: dict[str, str] = {}
    for word, phrases in _mapping(data.get("synonyms"), f"{source}: vocabulary.synonyms"):
        for phrase in _strings(phrases, f"{source}: vocabulary.synonyms.{word}"):
            synonyms[phrase] = " ".join(singular(w) for w in words(str(word or "")))
    values: dict[str, dict[str, str]] = {}
    for kind, listed in _mapping(data.get("values"), f"{source}: vocabulary.values"):
        aliases: dict[str, str] = {}
        for value, alias_list in _mapping(listed, f"{source}: vocabulary.values.{kind}"):
            for alias in (str(value), *_strings(alias_list or [], f"{kind}.{value}")):
                aliases[alias] = str(value)
        values[str(kind)] = aliases
    dimensions = _strings(data.get("dimensions") or [], f"{source}: vocabulary.dimensions")
    statistics = _strings(data.get("statistics") or [], f"{source}: vocabulary.statistics")
    shapes: dict[str, str] = {}
    for shape, listed_words in _mapping(data.get("shapes"), f"{source}: vocabulary.shapes"):
        if shape not in SHAPES:
            raise LibraryError(f"{source}: vocabulary.shapes.{shape}: one of {', '.join(SHAPES)}")
        shapes |= dict.fromkeys(
            _strings(listed_words, f"{source}: vocabulary.shapes.{shape}"), shape
        )
    abbreviations = {
        word: str(expansion)
        for word, expansion in _mapping(
            data.get("abbreviations"), f"{source}: vocabulary.abbreviations"
        )
    }
    markers = _strings(data.get("markers") or [], f"{source}: vocabulary.markers")
    return Vocabulary(
        synonyms,
        values,
        frozenset(dimensions),
        frozenset(statistics),
        shapes,
        abbreviations,
        frozenset(markers),
    )


def parse_entry(raw: Any, vocabulary: Vocabulary, where: str) -> Entry:
    """One entry in the library's format, checked as the file's entries are (an entry
    verified from chat, say), except that it may have no paraphrases."""
    required = tuple(key for key in REQUIRED if key != "paraphrases")
    return _entry({"paraphrases": [], **raw} if isinstance(raw, dict) else raw,
                  Normaliser(vocabulary), where, required)


def _entry(
    raw: Any, normaliser: Normaliser, where: str, required: tuple[str, ...] = REQUIRED
) -> Entry:
    vocabulary = normaliser.vocabulary
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: must be a mapping")
    missing = [key for key in required if not raw.get(key)]
    if not isinstance(raw.get("verified_at"), date):
        missing.append("verified_at (a date)")
    if missing:
        raise LibraryError(f"{where}: missing or empty: {', '.join(missing)}")
    params = tuple(
        _param(name, spec, vocabulary, f"{where}: params.{name}")
        for name, spec in _mapping(raw.get("params"), f"{where}: params")
    )
    chart = raw.get("chart")
    question, paraphrases = (
        str(raw["question"]),
        _strings(raw["paraphrases"], f"{where}: paraphrases") if raw["paraphrases"] else (),
    )
    intent = raw.get("intent")
    meanings = frozenset() if intent is None else _meanings(intent, normaliser, f"{where}: intent")
    entry = Entry(
        id=str(raw["id"]),
        question=question,
        paraphrases=paraphrases,
        sql=str(raw["sql"]).strip(),
        explanation=" ".join(str(raw["explanation"]).split()),
        verified_by=str(raw["verified_by"]),
        verified_at=raw["verified_at"],
        params=params,
        chart=_chart(chart, f"{where}: chart") if chart else None,
        answer=str(raw["answer"]) if raw.get("answer") else None,
        meanings=meanings,
    )
    _check_sql(entry, where)
    return entry


def _meanings(raw: Any, normaliser: Normaliser, where: str) -> frozenset[Meaning]:
    """The declared intent's forms: each metric alternative with each statistic (or the
    statistic the alternative names itself), the grouping and the shape.

    Alternatives are written in the library's words and read by the question parser, so a
    declaration and a question agree by construction; "(user)" marks an optional word."""
    if not isinstance(raw, dict) or not raw.get("metric") or raw.get("shape") not in SHAPES:
        raise LibraryError(f"{where}: needs metric (a list) and shape ({', '.join(SHAPES)})")
    vocabulary = normaliser.vocabulary
    grouping = frozenset(singular(w) for w in _phrases(raw.get("grouping") or [], where))
    if grouping - vocabulary.dimensions:
        raise LibraryError(
            f"{where}: grouping {sorted(grouping - vocabulary.dimensions)} "
            "is not in vocabulary.dimensions"
        )
    statistics = [
        _form(text, normaliser, f"{where}: statistic")
        for text in _phrases(raw.get("statistic", _default_statistic(vocabulary)), where)
    ]
    if any(metric for metric, _ in statistics):
        raise LibraryError(f"{where}: statistic names a metric word")
    meanings: set[Meaning] = set()
    for text in _phrases(raw["metric"], where):
        for variant in _optional_variants(text):
            metric, own = _form(variant, normaliser, f"{where}: metric {text!r}")
            for statistic in [own] if own else [s for _, s in statistics]:
                meanings.add(Meaning(metric, statistic, grouping, str(raw["shape"])))
    return frozenset(meanings)


def _default_statistic(vocabulary: Vocabulary) -> list[str]:
    """None named, or "total" (a plain count or sum said out loud)."""
    return ["", "total"] if "total" in vocabulary.statistics else [""]


def _form(text: str, normaliser: Normaliser, where: str) -> tuple[frozenset[str], frozenset[str]]:
    intent = normaliser.parse(text)
    if intent.slots or intent.meaning.grouping or intent.meaning.shape != "number":
        raise LibraryError(f"{where}: names a value, grouping or shape; declare those apart")
    return intent.meaning.metric, intent.meaning.statistic


def _optional_variants(text: str) -> list[str]:
    """ "(user) signup" → "user signup" and "signup"."""
    parts = text.split()
    options = [(p[1:-1], "") if p.startswith("(") and p.endswith(")") else (p,) for p in parts]
    return [" ".join(w for w in choice if w) for choice in product(*options)]


def _phrases(data: Any, where: str) -> list[str]:
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise LibraryError(f"{where}: must be a list of strings")
    return [str(item) for item in data]


def _param(name: str, spec: Any, vocabulary: Vocabulary, where: str) -> ParamSpec:
    if not isinstance(spec, dict) or spec.get("type") not in PARAM_TYPES:
        raise LibraryError(f"{where}: needs a type, one of {', '.join(PARAM_TYPES)}")
    kind = spec["type"]
    if kind == "period":
        default = spec.get("default")
        return ParamSpec(name, kind, default=None if default is None else _period(default, where))
    if kind == "enum":
        source = str(spec.get("values"))
        if source not in vocabulary.values:
            known = ", ".join(vocabulary.values) or "none"
            raise LibraryError(f"{where}: values must name a vocabulary list ({known})")
        default = spec.get("default")
        if default is not None and default not in vocabulary.values[source].values():
            raise LibraryError(f"{where}: default {default!r} is not in {source}")
        label = str(spec.get("label") or ParamSpec.label)
        return ParamSpec(name, kind, default=default, source=source, label=label)
    minimum, maximum, default = spec.get("min", 1), spec.get("max", 100), spec.get("default")
    ints = (minimum, maximum) if default is None else (minimum, maximum, default)
    if not all(isinstance(v, int) for v in ints) or not minimum <= maximum:
        raise LibraryError(f"{where}: min, max and default must be integers with min <= max")
    if default is not None and not minimum <= default <= maximum:
        raise LibraryError(f"{where}: default {default} is outside {minimum}..{maximum}")
    return ParamSpec(name, kind, default, str(spec.get("slot", "top")), minimum, maximum)


def _period(text: Any, where: str) -> Period:
    tokens = [singular(w) for w in words(str(text))]
    if tokens == ["all", "time"]:
        return ALL_TIME
    parsed = parse_period(tokens, 0) if tokens else None
    if parsed is None or parsed[1] != len(tokens):
        raise LibraryError(f"{where}: default {text!r} is not a period (e.g. 'last 30 days')")
    return parsed[0]


def _chart(raw: Any, where: str) -> ChartSpec:
    """The entry's chart, checked against the renderer's kinds and its rule for y."""
    if not isinstance(raw, dict) or raw.get("kind") not in CHART_KINDS:
        raise LibraryError(f"{where}: kind must be one of {', '.join(CHART_KINDS)}")
    if not raw.get("x"):
        raise LibraryError(f"{where}: x is required")
    if raw["kind"] == "histogram" and raw.get("y"):
        raise LibraryError(f"{where}: a histogram bins x and takes no y")
    if raw["kind"] != "histogram" and not raw.get("y"):
        raise LibraryError(f"{where}: y is required for a {raw['kind']} chart")
    return ChartSpec(
        kind=raw["kind"],
        x=str(raw["x"]),
        y=str(raw["y"]) if raw.get("y") else None,
        series=str(raw["series"]) if raw.get("series") else None,
        title=str(raw.get("title", "")),
        x_label=str(raw["x_label"]) if raw.get("x_label") else None,
        y_label=str(raw["y_label"]) if raw.get("y_label") else None,
    )


def _check_sql(entry: Entry, where: str) -> None:
    try:
        statements = [s for s in sqlglot.parse(entry.sql, read="redshift") if s is not None]
    except sqlglot.errors.ParseError as e:
        raise LibraryError(f"{where}: sql does not parse as Redshift: {e}") from e
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise LibraryError(f"{where}: sql must be exactly one SELECT statement")
    used = {p.name for p in statements[0].find_all(exp.Placeholder)}
    bound = {name for param in entry.params for name in param.bind_names}
    if used != bound:
        detail = []
        if used - bound:
            detail.append(f"placeholders no parameter binds: {sorted(used - bound)}")
        if bound - used:
            detail.append(f"parameters the sql never uses: {sorted(bound - used)}")
        raise LibraryError(f"{where}: sql: {'; '.join(detail)}")
    if sum(param.type == "period" for param in entry.params) > 1:
        raise LibraryError(f"{where}: at most one period parameter")


def _mapping(data: Any, where: str) -> list[tuple[str, Any]]:
    if data is None:
        return []
    if not isinstance(data, dict):
        raise LibraryError(f"{where}: must be a mapping")
    return [(str(key), value) for key, value in data.items()]


def _strings(data: Any, where: str) -> tuple[str, ...]:
    if not isinstance(data, list) or not all(isinstance(item, str) and item for item in data):
        raise LibraryError(f"{where}: must be a list of non-empty strings")
    return tuple(data)
