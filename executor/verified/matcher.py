"""Question → the verified entry that answers it, or nothing.

Precision first: a wrong verified answer is worse than none. So the decision is not a
similarity score but agreement:
- the question is parsed into its meaning (metric, statistic, grouping, answer shape) and
  its values (filters, period, top-N); a word the vocabulary cannot place stays in the
  metric, so an unexplained word agrees with no entry;
- the candidates are the entries declaring exactly that meaning;
- a candidate answers only if it takes every value the question gives (a filter it has a
  parameter for, one value per parameter, a period only where it has a period) and is
  given every value it needs;
- exactly one candidate must answer: none (the best entry is blocked by a value) or two
  (the library is ambiguous) means abstain. A lower-ranked entry with another meaning is
  never a fallback, because it is never a candidate.
Word overlap (IDF-weighted) only ranks the closest entries shown to the model as examples,
and gives a match its score for the logs.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from executor.verified.library import Entry, Library
from executor.verified.params import ParamMismatch, resolve
from executor.verified.text import Intent, Meaning, Normaliser


@dataclass(frozen=True)
class Match:
    entry: Entry
    # Word overlap with the entry's closest phrasing (for logs; the decision is agreement).
    score: float
    values: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """The match, or None with the reason the matcher abstained."""

    match: Match | None
    reason: str


class Matcher:
    def __init__(self, library: Library) -> None:
        self.library = library
        self._normaliser = Normaliser(library.vocabulary)
        self._phrasings: list[tuple[Entry, Intent]] = [
            (entry, self._normaliser.parse(text))
            for entry in library.entries
            for text in entry.phrasings
        ]
        self._by_meaning: dict[Meaning, list[Entry]] = {}
        for entry in library.entries:
            # An undeclared entry (one verified from chat, say) answers what its phrasings ask.
            meanings = entry.meanings or {p.meaning for e, p in self._phrasings if e is entry}
            for meaning in meanings:
                self._by_meaning.setdefault(meaning, []).append(entry)
        n = len(self._phrasings)
        df = Counter(token for _, parsed in self._phrasings for token in set(parsed.tokens))
        # BM25's idf; a word no phrasing uses weighs as much as the rarest word.
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def parse(self, question: str) -> Intent:
        return self._normaliser.parse(question)

    def match(self, question: str) -> Match | None:
        """The entry that answers the question, or None when no entry is clearly right."""
        return self.decide(question).match

    def decide(self, question: str) -> Decision:
        intent = self.parse(question)
        candidates = self._by_meaning.get(intent.meaning, [])
        if not candidates:
            return Decision(None, f"no entry answers {intent.meaning}")
        fitting: list[tuple[Entry, dict[str, Any]]] = []
        refusals: list[str] = []
        for entry in candidates:
            try:
                fitting.append((entry, resolve(entry, intent.slots)))
            except ParamMismatch as e:
                refusals.append(f"{entry.id}: {e}")
        if len(fitting) != 1:
            detail = refusals if not fitting else [entry.id for entry, _ in fitting]
            verdict = "cannot take the question's values" if not fitting else "ambiguous"
            return Decision(None, f"{verdict}: {'; '.join(detail)}")
        entry, values = fitting[0]
        score = max(self._overlap(intent, parsed) for e, parsed in self._phrasings if e is entry)
        return Decision(Match(entry, score, values), "agrees")

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

    def _overlap(self, question: Intent, phrasing: Intent) -> float:
        """IDF-weighted F1 of the words the question and the phrasing share."""
        q_weight = sum(self._weight(t) for t in question.tokens)
        p_weight = sum(self._weight(t) for t in phrasing.tokens)
        shared = sum(self._weight(t) for t in set(question.tokens) & set(phrasing.tokens))
        if not shared:
            return 0.0
        recall, precision = shared / q_weight, shared / p_weight
        return 2 * recall * precision / (recall + precision)

    def _weight(self, token: str) -> float:
        return self._idf.get(token, self._unknown_idf)
