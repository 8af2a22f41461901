"""The overlap finder: which existing pages already cover a draft, and which pages duplicate
each other.

Two signals, because they catch different things:
- lexical: MinHash over 5-word shingles (datasketch). Only copied text shares shingles, so a
  Jaccard >= 0.5 means a near-duplicate (a copy, lightly edited); LSH finds those candidates
  without comparing every pair.
- semantic: passage and page embeddings. Pages by different authors on one subject share
  almost no wording, so overlap is measured as meaning: score = 0.5 * page cosine + 0.5 *
  passage coverage (length-weighted mean, over one side's passages, of the best cosine with
  a passage of the other side; averaged over both directions for page pairs).

The near-duplicate band comes from the lexical signal; "strong overlap" and "related" from the
semantic score. Thresholds are constants in `scoring`, calibrated on corpus/ (bench/overlap.py).
Everything here is shared by the ingest (corpus-wide pairs, written into the build), the
service and the CLI; nothing imports `ingest` or `service`.
"""
