"""Question text → the content words and the parameter values (slots) the matcher compares.

"How many users signed up in the UK over the past 3 months?" becomes the tokens
("signup",) and the slots country=United Kingdom, period=last 3 months. Slots never
count as words: whether an entry can take them is decided by its parameters.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from executor.verified.periods import parse_period

# Words that carry no meaning for telling entries apart ("how many", "show me", "the").
_STOPWORDS = """a about all an and any are as at be been broken by can could count did do
    does doe each for from get give had has have how i in into is it its last list many me
    much my number of on or our over past per please show so tell than that the their them
    there these they this those to total up us was we were what whats when where which who
    whose will with would you your"""
STOPWORDS = frozenset(_STOPWORDS.split())
_NUMBERS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
_TENS = {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90"}
NUMBER_WORDS = (
    {word: str(value) for value, word in enumerate(_NUMBERS.split())}
    | _TENS
    | {
        "hundred": "100",
        "dozen": "12",
    }
)
# Words a top-N count can follow ("top 5", "best 3").
RANKING_WORDS = frozenset({"top", "best", "biggest", "largest", "highest"})


@dataclass(frozen=True)
class Slot:
    """A parameter value found in a question. kind: "period", "top", "number", or the
    name of a value list in the vocabulary ("country", "device", ...)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Parsed:
    tokens: tuple[str, ...]
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class Vocabulary:
    """synonyms: phrase → the word the library uses for it ("" drops the phrase).
    values: value-list name → phrase people type → the value as stored in the data.
    dimensions: the words that name how a result is grouped (country, plan, monthly...)."""

    synonyms: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]]
    dimensions: frozenset[str] = frozenset()


def words(text: str) -> list[str]:
    """Lower-case ASCII words: accents, apostrophes and punctuation removed."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"(\d),(\d{3})\b", r"\1\2", ascii_text.lower().replace("'", ""))
    return re.findall(r"[a-z]+|\d+", ascii_text)


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
        # One phrase table for synonyms and values, matched longest first, so that
        # "paid search" (a channel) wins over "search" (an event).
        self._phrases: dict[tuple[str, ...], tuple[str, str]] = {}
        for phrase, word in vocabulary.synonyms.items():
            self._phrases[self._key(phrase)] = ("word", word)
        for kind, aliases in vocabulary.values.items():
            for phrase, value in aliases.items():
                self._phrases[self._key(phrase)] = (kind, value)
        self._longest = max((len(key) for key in self._phrases), default=1)
        self._value_kinds = frozenset(vocabulary.values)

    def parse(self, text: str) -> Parsed:
        tokens = self._replace_phrases(self._key(text))
        content: list[str] = []
        slots: list[Slot] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            period = parse_period(tokens, i)
            if period is not None:
                slots.append(Slot("period", period[0]))
                i += period[1]
                continue
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if token.startswith("@"):
                kind, _, value = token[1:].partition("=")
                slots.append(Slot(kind, value))
            elif (token in RANKING_WORDS and following.isdigit()) or (
                token.isdigit() and following in RANKING_WORDS
            ):
                content += [] if "top" in content else ["top"]
                slots.append(Slot("top", int(token if token.isdigit() else following)))
                i += 1
            elif token.isdigit():
                slots.append(Slot("number", int(token)))
            elif token not in STOPWORDS and token not in content:
                content.append(token)
            i += 1
        return self._enumerations_as_words(content, slots)

    def _enumerations_as_words(self, content: list[str], slots: list[Slot]) -> Parsed:
        """Several values of one list ("free, pro and enterprise") ask by that column."""
        counts = Counter(slot.kind for slot in slots if slot.kind in self._value_kinds)
        for kind in (kind for kind, count in counts.items() if count > 1):
            slots = [slot for slot in slots if slot.kind != kind]
            content += [w for w in self._replace_phrases(self._key(kind)) if w not in content]
        return Parsed(tuple(content), tuple(slots))

    def _key(self, text: str) -> tuple[str, ...]:
        return tuple(singular(NUMBER_WORDS.get(word, word)) for word in words(text))

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
