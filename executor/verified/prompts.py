"""Suggested prompts for a new assistant thread, drawn from the verified library: questions
databot answers exactly, instantly and without the model.

The ranking, best first:
1. entries that share words with what the person is viewing (the channel's name, topic and
   purpose), more shared words first: someone in #revenue-reports sees revenue questions;
2. entries a question can ask as written (every parameter has a default), since a prompt
   is sent as is;
3. entries that draw a chart, since a picture shows at a glance what databot does;
4. the library's own order, which its editors keep most useful first.
Beyond the entries related to the channel, the list covers different subjects (an entry
id's first word: signups, users, revenue…) before it repeats one.
"""

from __future__ import annotations

import functools

from executor.verified.library import Entry, Library, load_library
from executor.verified.text import STOPWORDS, singular, words

MAX_PROMPTS = 4  # what Slack shows under a new assistant thread


def suggest_prompts(library: Library, viewing: str = "", limit: int = MAX_PROMPTS) -> list[str]:
    """Up to `limit` questions of `library`, ranked for someone viewing `viewing` (words
    describing a channel; "" for none)."""
    topic = _terms(viewing)

    def shared(entry: Entry) -> int:
        return len(topic & _terms(" ".join((entry.id.replace("_", " "), *entry.phrasings))))

    def rank(item: tuple[int, Entry]) -> tuple[int, bool, bool, int]:
        index, entry = item
        needs_value = any(param.default is None for param in entry.params)
        return -shared(entry), needs_value, entry.chart is None, index

    ranked = [entry for _, entry in sorted(enumerate(library.entries), key=rank)]
    picked = [entry for entry in ranked if shared(entry)]
    subjects: set[str] = set()
    for entry in ranked:
        subject = entry.id.split("_")[0]
        if entry not in picked and subject not in subjects:
            picked.append(entry)
            subjects.add(subject)
    picked += [entry for entry in ranked if entry not in picked]
    return [entry.question for entry in picked[:limit]]


@functools.cache
def _default_library() -> Library:
    return load_library()


def library_prompts(viewing: str) -> list[str]:
    """Suggested prompts from input/verified_queries.yaml (loaded once per process)."""
    return suggest_prompts(_default_library(), viewing)


def _terms(text: str) -> set[str]:
    return {singular(word) for word in words(text) if word not in STOPWORDS and len(word) > 2}
