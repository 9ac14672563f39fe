"""Question → the verified entry that answers it, with a confidence, or nothing.

Precision first: a wrong verified answer is worse than none. A phrasing (an entry's
question or one of its paraphrases) scores the IDF-weighted F1 of the words it shares
with the question, so rare, distinguishing words ("revenue", "never", "cohort") count
for much more than common ones, and a word either side lacks pulls the score down. On
top of the score, four hard rules:
- negation must agree ("users who never purchased" is not "users who purchased");
- the words that name a grouping must agree ("average order value by plan" is not
  "average order value");
- every value in the question must fill a parameter of the entry, and every parameter
  without a default must be filled ("revenue in Germany" is not "revenue by country");
- the best entry must beat the runner-up by a margin, or the question is ambiguous.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from executor.verified.library import Entry, Library
from executor.verified.params import ParamMismatch, resolve
from executor.verified.text import Normaliser, Parsed

THRESHOLD = 0.8
MARGIN = 0.12
NEGATION = "not"


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float
    # The parameter values the question gives this entry; None when they do not fit.
    values: dict[str, Any] | None
    reason: str = ""


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    values: dict[str, Any]


class Matcher:
    def __init__(
        self, library: Library, *, threshold: float = THRESHOLD, margin: float = MARGIN
    ) -> None:
        self.library = library
        self.threshold = threshold
        self.margin = margin
        self._normaliser = Normaliser(library.vocabulary)
        self._phrasings: list[tuple[Entry, Parsed]] = [
            (entry, self._normaliser.parse(text))
            for entry in library.entries
            for text in entry.phrasings
        ]
        n = len(self._phrasings)
        df = Counter(token for _, parsed in self._phrasings for token in set(parsed.tokens))
        # BM25's idf; a word no phrasing uses weighs as much as the rarest word.
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def parse(self, question: str) -> Parsed:
        return self._normaliser.parse(question)

    def rank(self, question: str) -> list[Candidate]:
        """Every entry with its best phrasing's score, best first."""
        parsed = self.parse(question)
        best: dict[str, float] = {}
        for entry, phrasing in self._phrasings:
            score = self._similarity(parsed, phrasing)
            best[entry.id] = max(score, best.get(entry.id, 0.0))
        candidates = []
        for entry in self.library.entries:
            try:
                candidates.append(Candidate(entry, best[entry.id], resolve(entry, parsed.slots)))
            except ParamMismatch as e:
                candidates.append(Candidate(entry, best[entry.id], None, str(e)))
        return sorted(candidates, key=lambda c: c.score, reverse=True)

    def match(self, question: str) -> Match | None:
        """The entry that answers the question, or None when no entry is clearly right."""
        usable = [c for c in self.rank(question) if c.values is not None]
        if not usable or usable[0].score < self.threshold:
            return None
        if len(usable) > 1 and usable[1].score > usable[0].score - self.margin:
            return None
        best = usable[0]
        assert best.values is not None
        return Match(best.entry, best.score, best.values)

    def closest(self, question: str, k: int = 3) -> list[Entry]:
        """The k entries sharing the most with the question, as examples for the model when
        none matched: word overlap only, since an example need not answer the question."""
        parsed = self.parse(question)
        best: dict[str, tuple[float, Entry]] = {}
        for entry, phrasing in self._phrasings:
            score = self._overlap(parsed, phrasing)
            if score > best.get(entry.id, (0.0, entry))[0]:
                best[entry.id] = (score, entry)
        ranked = sorted(best.values(), key=lambda pair: pair[0], reverse=True)
        return [entry for _, entry in ranked[:k]]

    def _similarity(self, question: Parsed, phrasing: Parsed) -> float:
        if (NEGATION in question.tokens) != (NEGATION in phrasing.tokens):
            return 0.0
        if self._dimensions(question) != self._dimensions(phrasing):
            return 0.0
        return self._overlap(question, phrasing)

    def _overlap(self, question: Parsed, phrasing: Parsed) -> float:
        """IDF-weighted F1 of the words the question and the phrasing share."""
        q_weight = sum(self._weight(t) for t in question.tokens)
        p_weight = sum(self._weight(t) for t in phrasing.tokens)
        shared = sum(self._weight(t) for t in set(question.tokens) & set(phrasing.tokens))
        if not shared:
            return 0.0
        recall, precision = shared / q_weight, shared / p_weight
        return 2 * recall * precision / (recall + precision)

    def _dimensions(self, parsed: Parsed) -> set[str]:
        return {t for t in parsed.tokens if t in self.library.vocabulary.dimensions}

    def _weight(self, token: str) -> float:
        return self._idf.get(token, self._unknown_idf)
