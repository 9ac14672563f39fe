"""Which tables a question is about, by what their names and descriptions say.

A `TableRanker` scores every table of a catalog against a piece of text. Its one
implementation here is lexical: BM25 over one document per table (its name three times,
its description, its columns' names and descriptions), with names split at underscores
and camelCase, words lightly stemmed ("cancelled", "cancels" → "cancel"), and a small
business vocabulary that lets "revenue" find a payments table and "staff" an employees
table. An embedding ranker (a model shipped in a package, or Bedrock's) would implement
the same protocol; none is used, since no package here ships its model's weights (a
runtime download is not allowed) and the lexical ranker meets the targets
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
NAME_WEIGHT = 3
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


def table_document(table: TableInfo) -> list[str]:
    """What the lexical ranker reads of a table, as much as the model would see of it."""
    text = [*(table.name,) * NAME_WEIGHT, cut(table.description, DESCRIPTION_CHARS)]
    for column in table.columns:
        text += [column.name, cut(column.description, DESCRIPTION_CHARS)]
    return terms(" ".join(text))


class LexicalRanker:
    """BM25 over one document per table, built once per catalog."""

    def __init__(self, tables: Sequence[TableInfo]) -> None:
        documents = [Counter(table_document(table)) for table in tables]
        self._documents = documents
        self._lengths = [sum(document.values()) for document in documents]
        self._average = sum(self._lengths) / len(documents) if documents else 0.0
        frequency = Counter(term for document in documents for term in document)
        count = len(documents)
        self._idf = {term: math.log(1 + (count - n + 0.5) / (n + 0.5))
                     for term, n in frequency.items()}

    def scores(self, text: str) -> list[float]:
        query = self._query(text)
        return [self._score(document, length, query)
                for document, length in zip(self._documents, self._lengths, strict=True)]

    def _query(self, text: str) -> dict[str, float]:
        """The text's terms with their weights, the related words of each added."""
        query: dict[str, float] = {}
        for term in terms(text):
            query[term] = 1.0
        for term in list(query):
            for related in _RELATED.get(term, ()):
                query.setdefault(related, RELATED_WEIGHT)
        return {term: weight for term, weight in query.items() if term in self._idf}

    def _score(self, document: Counter[str], length: int, query: dict[str, float]) -> float:
        score = 0.0
        norm = K1 * (1 - B + B * length / self._average) if self._average else K1
        for term, weight in query.items():
            tf = document.get(term, 0)
            if tf:
                score += weight * self._idf[term] * tf * (K1 + 1) / (tf + norm)
        return score


_RELATED = {stem(word): terms(related) for word, related in RELATED.items()}
