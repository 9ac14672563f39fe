"""Country names read naturally inside an answer's sentence."""

from __future__ import annotations

import pytest

from executor.verified.wording import country_name, sentence


@pytest.mark.parametrize(
    ("value", "reads"),
    [("United Kingdom", "the United Kingdom"), ("United States", "the United States"),
     ("Netherlands", "the Netherlands"), ("France", "France"), (42, 42), (None, None)],
)
def test_country_names_take_their_article(value: object, reads: object) -> None:
    assert country_name(value) == reads


def test_a_sentence_opened_by_a_value_is_capitalised() -> None:
    assert sentence("the United States has the most users.") == (
        "The United States has the most users."
    )
    assert sentence("") == ""
