"""Which tables a question is about, by what their names and descriptions say.

A `TableRanker` scores every table of a catalog against a piece of text. Its one
implementation here is lexical: BM25 over each table's description and its columns' names
and descriptions, plus a bonus for each of the question's words in the table's name. Names
are split at underscores and camelCase, words lightly stemmed ("cancelled", "cancels" →
"cancel"), words that only say how to count or over which period are left out of the query,
and a small business vocabulary lets "revenue" find a payments table and "staff" an
employees table. An embedding ranker (a model shipped in a package, or Bedrock's) would
implement the same protocol; none is used, since no package here ships its model's weights
(a runtime download is not allowed) and the lexical ranker meets the targets
(bench/big_catalog.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from executor.tools.bounded import cut
from executor.tools.describe_tables import DESCRIPTION_CHARS
from executor.verified.text import STOPWORDS, singular, words
from executor.warehouse.base import TableInfo

# BM25's usual constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
# Added per query word found in a table's name; a body word scores at most K1 + 1.
NAME_WEIGHT = 1.5
# A word people use → the words a catalog uses for it, added to the query at a lower
# weight than the question's own words.
RELATED = {
    "revenue": "payment sale income amount",
    "sale": "revenue order payment",
    "income": "revenue payment",
    "earn": "revenue payment",
    "money": "revenue payment amount",
    "gmv": "order revenue",
    "turnover": "revenue",
    "churn": "cancel subscription",
    "retention": "subscription cancel",
    "cancellation": "cancel",
    "customer": "user customer",
    "client": "customer account",
    "buyer": "customer order",
    "people": "user employee",
    "staff": "employee",
    "headcount": "employee",
    "hire": "employee hired job application",
    "worker": "employee",
    "salary": "payroll pay",
    "wage": "payroll pay",
    "compensation": "payroll pay bonus",
    "complaint": "ticket support",
    "helpdesk": "ticket support",
    "zendesk": "ticket support",
    "vacation": "time off leave",
    "holiday": "time off leave",
    "pto": "time off leave",
    "parcel": "shipment",
    "package": "shipment",
    "delivery": "shipment delivered",
    "shipping": "shipment",
    "stock": "inventory unit",
    "ad": "campaign spend",
    "advertising": "ad campaign spend",
    "deal": "opportunity",
    "pipeline": "opportunity stage",
    "newsletter": "email",
    "signup": "user signed",
    "register": "user signed",
    "outage": "incident",
    "downtime": "incident",
    "release": "deployment",
    "deploy": "deployment",
    "satisfaction": "csat rating",
    "vendor": "supplier",
    "sku": "product",
    "item": "product",
    "visit": "session",
    "visitor": "session user",
    "traffic": "session page view",
    "dispute": "chargeback",
    "mrr": "recurring revenue",
    "arr": "recurring revenue",
}
RELATED_WEIGHT = 0.4
# Words that say how to count or over which period, not what about: they would match
# every table with a rate, a month column or a "per day" in its description.
QUESTION_NOISE = """rate share average avg mean median total sum count number trend growth
    percent percentage ratio top most best least compare distribution per breakdown split
    day week month quarter year today yesterday ago since now current previous recent
    date time"""
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_DOUBLE = re.compile(r"([b-df-hj-np-tv-z])\1$")


class TableRanker(Protocol):
    """Relevance of each table of a catalog to a text."""

    def scores(self, text: str) -> list[float]:
        """One score per table, in the catalog's order: 0 for none, higher for closer."""
        ...


def terms(text: str) -> list[str]:
    """The stems of `text`'s meaningful words: snake_case and camelCase split, stop words
    dropped."""
    return [stem(word) for word in words(_CAMEL.sub(r"\1 \2", text))
            if word not in STOPWORDS and len(word) > 1]


def stem(word: str) -> str:
    """A light stem, enough to meet a word's other forms: plural, -ed, -ing, a final e."""
    word = singular(word)
    if len(word) > 5 and word.endswith("ied"):
        word = word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            word = _DOUBLE.sub(r"\1", word[: -len(suffix)])
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def table_body(table: TableInfo) -> list[str]:
    """What the lexical ranker reads of a table besides its name: its description and its
    columns' names and descriptions, as much as the model would see of them."""
    text = [cut(table.description, DESCRIPTION_CHARS)]
    for column in table.columns:
        text += [column.name, cut(column.description, DESCRIPTION_CHARS)]
    return terms(" ".join(text))


class LexicalRanker:
    """BM25 over each table's description and columns, plus a bonus for each query word in
    the table's name (a table named after what the question is about is the likeliest);
    built once per catalog, as an inverted index."""

    def __init__(self, tables: Sequence[TableInfo]) -> None:
        self._count = len(tables)
        self._postings: dict[str, list[tuple[int, float]]] = {}
        bodies = [Counter(table_body(table)) for table in tables]
        lengths = [sum(body.values()) for body in bodies]
        average = sum(lengths) / len(lengths) if any(lengths) else 1.0
        for i, (body, length) in enumerate(zip(bodies, lengths, strict=True)):
            norm = K1 * (1 - B + B * length / average)
            weights = {term: tf * (K1 + 1) / (tf + norm) for term, tf in body.items()}
            for term in set(terms(tables[i].name)):
                weights[term] = weights.get(term, 0.0) + NAME_WEIGHT
            for term, weight in weights.items():
                self._postings.setdefault(term, []).append((i, weight))
        self._idf = {term: math.log(1 + (self._count - len(postings) + 0.5)
                                    / (len(postings) + 0.5))
                     for term, postings in self._postings.items()}

    def scores(self, text: str) -> list[float]:
        scores = [0.0] * self._count
        for term, weight in self._query(text).items():
            idf = self._idf[term] * weight
            for i, term_weight in self._postings[term]:
                scores[i] += idf * term_weight
        return scores

    def _query(self, text: str) -> dict[str, float]:
        """The text's terms with their weights, the related words of each added."""
        query: dict[str, float] = {}
        for term in terms(text):
            if term not in _NOISE:
                query[term] = 1.0
        for term in list(query):
            for related in _RELATED.get(term, ()):
                query.setdefault(related, RELATED_WEIGHT)
        return {term: weight for term, weight in query.items() if term in self._idf}


_NOISE = frozenset(terms(QUESTION_NOISE))
_RELATED = {stem(word): terms(related) for word, related in RELATED.items()}
