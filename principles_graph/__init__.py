"""The top of the import graph: the `principles` command line, which composes the ingest job
(`ingest/`) and the service (`service/`) over the shared package (`principles/`). Nothing
imports this package."""
