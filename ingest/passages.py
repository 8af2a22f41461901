"""Passage windows: the code lives in `principles.passages` (the overlap finder cuts drafts the
same way); re-exported here so ingest reads as before."""

from __future__ import annotations

from principles.passages import Passage, chunk

__all__ = ["Passage", "chunk"]
