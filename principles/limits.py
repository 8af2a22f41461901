"""Sizes of single fields, shared by ingest (corpus pages) and the overlap drafts.

A title is prefixed to every passage that is embedded, so a 400 KB title costs seconds of
model time per passage; these bounds are far above anything the site uses (its longest title
is under 120 characters, its longest description under 1,000).
"""

from __future__ import annotations

MAX_TITLE_CHARS = 300
MAX_DESCRIPTION_CHARS = 5_000
MAX_TERMS = 200  # tags + categories + concepts a draft may declare
MAX_TERM_CHARS = 200
