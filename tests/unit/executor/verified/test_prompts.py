"""Suggested prompts for a new assistant thread: drawn from the verified library, related
to the viewed channel first, then the most useful ones across subjects."""

from __future__ import annotations

import pytest

from executor.verified.library import Library, load_library
from executor.verified.prompts import MAX_PROMPTS, suggest_prompts


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_without_a_channel_the_prompts_cover_different_subjects(library: Library) -> None:
    prompts = suggest_prompts(library)

    assert len(prompts) == MAX_PROMPTS
    questions = {entry.question: entry for entry in library.entries}
    subjects = {questions[p].id.split("_")[0] for p in prompts}
    assert len(subjects) == MAX_PROMPTS
    # Each can be sent as written: no parameter the question must give.
    assert all(all(param.default is not None for param in questions[p].params)
               for p in prompts)


def test_questions_related_to_the_viewed_channel_come_first(library: Library) -> None:
    prompts = suggest_prompts(library, "funnel-analysis Conversion from view to purchase")

    assert "funnel" in prompts[0].lower()


def test_every_prompt_is_a_library_question_and_the_limit_holds(library: Library) -> None:
    questions = {entry.question for entry in library.entries}

    for viewing in ("", "revenue", "growth team", "#random"):
        prompts = suggest_prompts(library, viewing, limit=3)
        assert len(prompts) == 3 and set(prompts) <= questions
        assert len(set(prompts)) == 3
