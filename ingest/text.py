"""Markdown to plain text: the code lives in `principles.text` (the overlap finder in the service
cleans drafts with it too); re-exported here so ingest reads as before."""

from __future__ import annotations

from principles.text import count_shortcodes, markdown_to_text, title_from_body

__all__ = ["count_shortcodes", "markdown_to_text", "title_from_body"]
