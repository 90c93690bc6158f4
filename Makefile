# The two commands: `make run` (whole system, demo data) and `make test`.
# Everything a fresh machine lacks is installed by these targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP_VERSION := 26.3

.PHONY: run up down status test test-fast test-unit servers venv bench clean vendor

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# the venv's own pip is as old as the Python; tests/security/advisories.py names why not
	$(PY) -m pip install -q pip==$(PIP_VERSION)
	$(PY) -m pip install -q -c constraints.txt -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP)

## the whole system in the foreground; Ctrl-C stops it
run: venv
	$(PY) -m dev.stack run

## the whole system in the background; returns once every service is healthy
up: venv
	$(PY) -m dev.stack up

## stop what `run`/`up`/`test` started (and nothing else)
down:
	@if [ -x $(PY) ]; then $(PY) -m dev.stack down; fi

status: venv
	$(PY) -m dev.stack status

servers: venv
	$(PY) -m dev.stack servers

## every test suite against real servers (started here when missing), as lanes side by
## side (tests/lanes.py: each lane's log in test-output/lanes/, times at the end)
test: venv
	$(PY) -m dev.stack servers
	$(PY) -m dev.stack test-tools
	$(PY) -m tests.lanes

## the same without the `slow` tests (fuzzing, faults, whole system and browser); CI runs `test`
test-fast: venv
	$(PY) -m dev.stack servers
	$(PY) -m dev.stack test-tools
	$(PY) -m pytest -m "not slow"

## load benchmark against the running system, never in CI (tests/load/README.md);
## e.g. make bench BENCH_ARGS="--concurrency 50 --duration 60"
bench: up
	$(PY) -m tests.load.run $(BENCH_ARGS)

## re-copy the staff pages' browser libraries from the npm registry (pinned in
## dev/vendor.py; the copies are committed, so only upgrades need this)
vendor: venv
	$(PY) -m dev.vendor

## pure tests only, no servers
test-unit: venv
	$(PY) -m pytest tests/unit

clean: down
	rm -rf var $(VENV)
