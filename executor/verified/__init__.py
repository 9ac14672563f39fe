"""Verified queries: the curated question → SQL library, its matcher, and the offline engine."""

from executor.verified.library import DEFAULT_LIBRARY, Entry, Library, LibraryError, load_library
from executor.verified.matcher import Match, Matcher

__all__ = [
    "DEFAULT_LIBRARY",
    "Entry",
    "Library",
    "LibraryError",
    "Match",
    "Matcher",
    "load_library",
]
