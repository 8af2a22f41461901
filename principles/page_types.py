"""Page types that are hubs of the taxonomy rather than content.

A tag, category or concept page (and a section list page) sums up the pages it gathers: it is
not a related read next to an article (the site's related lists never name one), and sharing
a subject with it is the point of a taxonomy, not an overlap to merge.
"""

from __future__ import annotations

HUB_TYPES = frozenset({"tag", "category", "concept", "section"})
