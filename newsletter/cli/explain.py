"""What `newsletter ingest --explain` prints: per source, the excerpts with their dates' origins, and the drops."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from newsletter.cli.app import App
from newsletter.content.ingest import Explained

_SHOWN = 100  # characters of a dropped block shown in the human listing (JSON has them whole)


def explained_json(item: Explained) -> dict[str, Any]:
    """One source as a JSON object: excerpts (with paragraphs) and dropped blocks, or the error."""
    if item.reading is None:
        return {"source": item.name, "error": item.error, "excerpts": [], "dropped": []}
    return {
        "source": item.name,
        "excerpts": [{"title": found.excerpt.title, "date": found.excerpt.lesson_date.isoformat(),
                      "date_from": found.date_from.value, "source": found.excerpt.source,
                      "paragraphs": [p.plain() for p in found.excerpt.paragraphs],
                      "words": found.excerpt.words} for found in item.reading.found],
        "dropped": [{"text": d.text, "cause": d.cause.value, "reason": d.reason} for d in item.reading.dropped],
    }


def show_explained(app: App, item: Explained) -> None:
    """One source for a person: an excerpt per line, then each dropped block with its cause and reason."""
    if item.reading is None:
        app.errors.print(f"{escape(item.name)}: [bold red]failed[/]: {escape(item.error)}")
        return
    reading = item.reading
    app.console.print(f"[bold]{escape(item.name)}[/]: {len(reading.found)} excerpt(s), "
                      f"{len(reading.dropped)} block(s) dropped; nothing stored")
    for found in reading.found:
        excerpt = found.excerpt
        app.console.print(f"  [green]excerpt[/] {excerpt.lesson_date} (date from the {found.date_from}) "
                          f"{escape(excerpt.title)!r}: {len(excerpt.paragraphs)} paragraph(s), {excerpt.words} words")
    for dropped in reading.dropped:
        text = dropped.text if len(dropped.text) <= _SHOWN else dropped.text[:_SHOWN - 1] + "…"
        app.console.print(f"  [dim]dropped[/] {dropped.cause} ({escape(dropped.reason)}): {escape(text)!r}")
