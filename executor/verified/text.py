"""Question text → its intent: what it asks and the values it gives.

"How many customers in the UK signed up over the past 3 months?" becomes the meaning
metric {user, signup}, no statistic, no grouping, shape "number", and the slots
country=United Kingdom, period=last 3 months. Every content word lands in exactly one
place (metric, statistic, grouping, shape, or a slot); a word the vocabulary does not
know stays in the metric, so no entry's declaration can agree with the question and the
matcher abstains. Slots never count as words: whether an entry can take them is decided
by its parameters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from executor.verified.periods import parse_period

# Words that carry no meaning for telling questions apart ("the", "what"). Words that
# change a question (total, number, count, list, per, when, where, who) are not here.
_STOPWORDS = """a about all an and any are as at be been broken by can could did do does
    doe for from get give had has have how hows i in into is it its last many me much my
    of on or our over past please show so tell than that the their them there these they
    this those through to up us via was we were what whats which whose will with would
    you your each every"""
STOPWORDS = frozenset(_STOPWORDS.split())
_NUMBERS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
_TENS = {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90"}
NUMBER_WORDS = (
    {word: str(value) for value, word in enumerate(_NUMBERS.split())}
    | _TENS
    | {"hundred": "100", "dozen": "12"}
)
# Words a top-N count can follow ("top 5", "best 3"), once synonyms are applied.
RANKING_WORDS = frozenset({"top", "best", "most"})
SHAPES = ("number", "series", "ranking", "list")
# "per X": a rate over X ("revenue per purchase"), unless X is a grouping ("per country").
PER = "per"
TOTAL = "total"
# "who bought?" asks for people; "users who bought" only qualifies the users.
WHO = "who"
# "vs" between two values only joins them ("France vs Spain"); elsewhere it asks for a
# comparison ("revenue vs last month"), which is a statistic no entry declares.
VERSUS = "versus"


@dataclass(frozen=True)
class Slot:
    """A parameter value found in a question. kind: "period", "top", "number", or the
    name of a value list in the vocabulary ("country", "device", ...)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Meaning:
    """What a question asks, or one form of what an entry answers: the metric's words
    (negation included), the statistic taken of it ("average", "share", "per_user"; none
    for a plain count or sum, "total" when the question says so), the grouping words, and
    the shape of the answer (SHAPES)."""

    metric: frozenset[str]
    statistic: frozenset[str] = frozenset()
    grouping: frozenset[str] = frozenset()
    shape: str = "number"

    def __str__(self) -> str:
        def listed(words: frozenset[str]) -> str:
            return " ".join(sorted(words)) or "-"

        return (
            f"metric {listed(self.metric)}; statistic {listed(self.statistic)}; "
            f"grouping {listed(self.grouping)}; shape {self.shape}"
        )


@dataclass(frozen=True)
class Intent:
    """A parsed question: its content words in order (for word-overlap ranking), the
    values it gives, and its meaning."""

    tokens: tuple[str, ...]
    slots: tuple[Slot, ...]
    meaning: Meaning


@dataclass(frozen=True)
class Vocabulary:
    """synonyms: phrase → the words the library uses for it ("" drops the phrase).
    values: value-list name → phrase people type → the value as stored in the data.
    dimensions: the words that name how a result is grouped (country, plan, monthly...).
    statistics: the words that turn a metric into another (average, median, share...).
    shapes: a word → the answer shape it asks for ("top" → ranking, "list" → list).
    abbreviations: a word → the words it stands for, applied before anything else.
    markers: the words that ask to group by the column they go with ("by", "each",
    "breakdown"); a column named without one is the thing listed ("products in toys")."""

    synonyms: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]]
    dimensions: frozenset[str] = frozenset()
    statistics: frozenset[str] = frozenset()
    shapes: Mapping[str, str] = field(default_factory=dict)
    abbreviations: Mapping[str, str] = field(default_factory=dict)
    markers: frozenset[str] = frozenset()


def words(text: str) -> list[str]:
    """Lower-case ASCII words: accents, apostrophes and punctuation removed, % as a word,
    and a capitalised "US" kept apart from the pronoun "us"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"\bU\.?S\b\.?", "USA", ascii_text)
    ascii_text = re.sub(r"(\d),(\d{3})\b", r"\1\2", ascii_text.lower().replace("'", ""))
    return re.findall(r"[a-z]+|\d+", ascii_text.replace("%", " percent "))


def singular(word: str) -> str:
    """A deliberately small plural rule: categories → category, users → user, sales → sale."""
    if len(word) <= 3 or word in STOPWORDS:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "ss", "us", "is")):
        return word[:-2] if word.endswith("sses") else word
    return word[:-1] if word.endswith("s") else word


class Normaliser:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._abbreviations = {
            word: tuple(words(expansion)) for word, expansion in vocabulary.abbreviations.items()
        }
        # Words the vocabulary knows, so that "skus" and "daus" lose their plural "s"
        # even though the general rule keeps a word ending in "us".
        self._known = frozenset(
            word for phrase in _all_phrases(vocabulary) for word in words(phrase)
        )
        # One phrase table for synonyms and values, matched longest first, so that
        # "paid search" (a channel) wins over "search" (an event).
        self._phrases: dict[tuple[str, ...], tuple[str, str]] = {}
        for phrase, word in vocabulary.synonyms.items():
            self._phrases[self._key(phrase)] = ("word", word)
        for kind, aliases in vocabulary.values.items():
            for phrase, value in aliases.items():
                self._phrases[self._key(phrase)] = (kind, value)
        self._longest = max((len(key) for key in self._phrases), default=1)
        # The grouping word that names each value list's column ("acquisition_channel" →
        # "channel"), and how many values the list has.
        self._column_word = {
            kind: " ".join(self._replace_phrases(self._key(kind.replace("_", " "))))
            for kind in vocabulary.values
        }
        self._value_count = {kind: len(set(v.values())) for kind, v in vocabulary.values.items()}

    def parse(self, text: str) -> Intent:
        tokens = self._without_column_words(self._replace_phrases(self._key(text)))
        marked = any(token in self.vocabulary.markers for token in tokens)
        content: list[str] = []
        slots: list[Slot] = []
        i = 0
        while i < len(tokens):
            i += self._take(tokens, i, content, slots)
        content, slots, enumerated = self._enumerations_as_groupings(content, slots)
        return self._intent(content, slots, marked or enumerated)

    def _take(self, tokens: list[str], i: int, content: list[str], slots: list[Slot]) -> int:
        """Reads the word at i (and those it governs) into content or slots; returns how
        many words it used."""
        token, following = tokens[i], _at(tokens, i + 1)
        previous = tokens[i - 1] if i else ""
        period = parse_period(tokens, i)
        if period is not None:
            slots.append(Slot("period", period[0]))
            if self._marked(tokens, i):
                # "each of the last 6 months": by month, over the last 6 months. Without a
                # word for that grouping, one no declaration explains.
                grouping = self._phrases.get(("each", period[0].unit))
                for word in grouping[1].split() if grouping else [f"each_{period[0].unit}"]:
                    _add(content, word)
            return period[1]
        if token.startswith("@"):
            kind, _, value = token[1:].partition("=")
            slots.append(Slot(kind, value))
        elif token in RANKING_WORDS and following.isdigit():
            _add(content, "top")
            slots.append(Slot("top", int(following)))
            return 2
        elif token.isdigit() and following in RANKING_WORDS:
            _add(content, "top")
            slots.append(Slot("top", int(token)))
            return 2
        elif token.isdigit():
            slots.append(Slot("number", int(token)))
        elif token == PER:
            if self._is_content(following) and following not in self.vocabulary.dimensions:
                _add(content, f"{PER}_{following}")
                return 2
        elif token == WHO:
            if not self._is_content(previous):
                _add(content, "list")
        elif token == VERSUS:
            if not (previous.startswith("@") and following.startswith("@")):
                _add(content, VERSUS)
        elif previous == TOTAL and self._is_column(token):
            # "how many countries": the column is counted, not grouped by.
            _add(content, f"{TOTAL}_{token}")
        elif token not in STOPWORDS and token not in self.vocabulary.markers:
            _add(content, token)
        return 1

    def _intent(self, content: list[str], slots: list[Slot], marked: bool) -> Intent:
        vocabulary = self.vocabulary
        metric, statistic, grouping, shapes = set(), set(), set(), set()
        for word in content:
            if word in vocabulary.shapes:
                shapes.add(vocabulary.shapes[word])
            if word in vocabulary.statistics or word.startswith(f"{PER}_"):
                statistic.add(word)
            elif word in vocabulary.dimensions:
                grouping.add(word)
            elif word not in vocabulary.shapes:
                metric.add(word)
        meaning = Meaning(
            frozenset(metric),
            frozenset(statistic),
            frozenset(grouping),
            _shape(shapes, grouping, marked),
        )
        return Intent(tuple(content), tuple(slots), meaning)

    def _enumerations_as_groupings(
        self, content: list[str], slots: list[Slot]
    ) -> tuple[list[str], list[Slot], bool]:
        """Every value of a list ("free, pro and enterprise") asks by that column; some of
        them ("France vs Spain") stay a filter with several values, which no entry takes."""
        enumerated = False
        for kind, count in self._value_count.items():
            named = {slot.value for slot in slots if slot.kind == kind}
            if count > 1 and len(named) == count:
                slots = [slot for slot in slots if slot.kind != kind]
                enumerated = True
                for word in self._column_word[kind].split():
                    _add(content, word)
        return content, slots, enumerated

    def _without_column_words(self, tokens: list[str]) -> list[str]:
        """ "the toys category", "the paid search channel": the word names the value's
        column, it does not ask to group by it."""

        def names_column(i: int) -> bool:
            return any(
                t.startswith("@") and self._column_word.get(t[1:].partition("=")[0]) == tokens[i]
                for t in (tokens[i - 1] if i else "", _at(tokens, i + 1))
            )

        return [t for i, t in enumerate(tokens) if not names_column(i)]

    def _marked(self, tokens: list[str], i: int) -> bool:
        """Whether a marker ("each", "per") governs the words from i ("each of the ...")."""
        while i and tokens[i - 1] in ("of", "the", "for", "over", "in"):
            i -= 1
        return bool(i) and tokens[i - 1] in self.vocabulary.markers

    def _is_column(self, token: str) -> bool:
        """A dimension that names a column rather than a time unit (monthly, daily)."""
        return token in self.vocabulary.dimensions and self.vocabulary.shapes.get(token) != "series"

    def _is_content(self, token: str) -> bool:
        return (
            bool(token)
            and token not in STOPWORDS
            and not token.startswith("@")
            and (not token.isdigit())
        )

    def _key(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        for word in words(text):
            word = NUMBER_WORDS.get(word, word)
            expansion = self._abbreviations.get(word)
            if expansion is None:
                word = self._singular(word)
                expansion = self._abbreviations.get(word, (word,))
            out.extend(self._singular(w) for w in expansion)
        return tuple(out)

    def _singular(self, word: str) -> str:
        if len(word) > 3 and word.endswith("s") and word[:-1] in self._known:
            return word[:-1]
        return singular(word)

    def _replace_phrases(self, tokens: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for length in range(min(self._longest, len(tokens) - i), 0, -1):
                found = self._phrases.get(tokens[i : i + length])
                if found is not None:
                    kind, value = found
                    out.extend(value.split() if kind == "word" else [f"@{kind}={value}"])
                    i += length
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


def _shape(shapes: set[str], grouping: set[str], marked: bool) -> str:
    """A time grouping or "trend" asks for a series; "top", "most" for a ranking, even
    of a list ("list the top 10 items"); "list", "who" for a list. Otherwise a column asks
    for a ranking of its groups when a marker says so ("by country"), and is the thing
    listed when none does ("products in toys"); no column asks for a single number."""
    for shape in ("series", "ranking", "list"):
        if shape in shapes:
            return shape
    if grouping:
        return "ranking" if marked else "list"
    return "number"


def _all_phrases(vocabulary: Vocabulary) -> Iterable[str]:
    yield from vocabulary.synonyms
    yield from vocabulary.synonyms.values()
    for aliases in vocabulary.values.values():
        yield from aliases
    yield from vocabulary.abbreviations
    yield from vocabulary.dimensions
    yield from vocabulary.statistics
    yield from vocabulary.shapes
    yield from vocabulary.markers


def _add(content: list[str], word: str) -> None:
    if word not in content:
        content.append(word)


def _at(tokens: list[str], i: int) -> str:
    return tokens[i] if i < len(tokens) else ""
