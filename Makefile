# One way in (STYLE.md, habit 12): `make test`, `make lint`, `make fmt`, `make bench`, `make run`.
# CI calls `make test` through .ci/run.

CARGO ?= cargo
PYTHON ?= python3

# The shared folder (corpus, agentgen, bench baselines) sits beside the clone; tests find it here.
SIGHTLINE_SHARED ?= $(abspath $(CURDIR)/../shared)
export SIGHTLINE_SHARED

DEMO_DIR ?= $(CURDIR)/target/demo
DEMO_RUNS ?= 300
DEMO_LOG := $(DEMO_DIR)/logs/agents.jsonl
DEMO_DB := $(DEMO_DIR)/workspace.db

.PHONY: all test lint fmt fmt-check clippy bench run

all: test

test: lint
	$(CARGO) test --workspace

lint: fmt-check clippy

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	bash bench/run.sh

# A demo workspace: agentgen logs in every dialect, ingested, then summarised.
# Ingest is idempotent, so running this twice adds nothing the second time.
run: $(DEMO_LOG)
	$(CARGO) run --release -- --db $(DEMO_DB) ingest $(DEMO_DIR)/logs
	$(CARGO) run --release -- --db $(DEMO_DB) stats

# agentgen writes FILE.truth.json beside FILE; both are written outside logs/ and only the log
# moves in, so that ingesting the folder reads logs only, and never a half-written file.
$(DEMO_LOG):
	mkdir -p $(@D)
	$(PYTHON) $(SIGHTLINE_SHARED)/agentgen/agentgen.py logs --style mixed --runs $(DEMO_RUNS) \
		-o $(DEMO_DIR)/agents.jsonl
	mv $(DEMO_DIR)/agents.jsonl $@
