"""Counted nouns in messages, through `ngettext`: "1 attempt", "3 attempts", never
"attempt(s)"."""

from django.utils.translation import ngettext


def short(text: str, limit: int = 100) -> str:
    """The beginning of a long text (an error in a list's cell); its page shows it whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def source_words(source: str) -> str:
    """Where an action came from, as a sentence says it: "via admin", "via API"."""
    return "API" if source == "api" else source


def attempts(count: int) -> str:
    return ngettext("%(n)d attempt", "%(n)d attempts", count) % {"n": count}
