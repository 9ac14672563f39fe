"""How data values read inside a sentence: "the United Kingdom has the most users", not
"United Kingdom has the most users"."""

from __future__ import annotations

# Country names that take "the" in running English.
_WITH_ARTICLE = frozenset({
    "United States", "United Kingdom", "Netherlands", "Philippines", "United Arab Emirates",
    "Czech Republic", "Dominican Republic", "Bahamas", "Gambia", "Maldives",
    "Central African Republic", "Democratic Republic of the Congo", "Republic of the Congo",
})


def country_name(value: object) -> object:
    """`value` as it reads in a sentence; anything that is not such a name is left as is."""
    return f"the {value}" if isinstance(value, str) and value in _WITH_ARTICLE else value


def sentence(text: str) -> str:
    """`text` with its first letter capitalised, since a value may open it."""
    return text[:1].upper() + text[1:]
