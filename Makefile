# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
INDEX  ?= var/index
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install test-tools ingest serve lint typecheck bench imports clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first and pinned: an unpinned torch pulls GBs of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Browser, static-site and load tests need Debian's chromium, hugo and wrk (Playwright drives the
# system chromium; its own browser download cannot work here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-tools:
	@command -v chromium >/dev/null && command -v hugo >/dev/null && command -v wrk >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium hugo wrk >/dev/null; }

ingest: $(STAMP)
	$(BIN)/principles ingest --corpus corpus --index $(INDEX) --if-stale

run: ingest
	$(BIN)/principles serve --index $(INDEX) --host 127.0.0.1 --port 8000

test: $(STAMP) test-tools
	$(BIN)/ruff check principles principles_graph ingest service ontology tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

# Layers and import cycles (tests/test_architecture.py holds the rules).
imports: $(STAMP)
	$(BIN)/python -m tests.import_graph

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf var test-output
