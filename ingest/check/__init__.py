"""`principles check`: a pre-publish check of new and changed pages against the current index,
without re-ingesting the corpus.

Authors publish by pushing to a git repository; this is what runs at commit time (pre-commit)
and in pull requests (CI annotations). Files are read exactly as ingest reads them (so a
front-matter error is reported as ingest would report it), compared with the built index by
the overlap finder, and checked for taxonomy health. One module per job:
`changes` (which files), `findings` (what is reported), `context` (the index and model),
`overlap`, `taxonomy`, `links`, `render` (text/json/markdown/github) and `runner`.
"""
