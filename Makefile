# The two commands a newcomer needs: `make run` and `make test` (see README).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
IVR := $(BIN)/ivr
# pytest workers (pytest-xdist): the lab tests mostly wait on real calls, so two run side by side on
# two cores, each worker with its own lab on free ports; a test file's tests stay on one worker
# (--dist loadfile), so a module's lab is made once.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: setup lab-install run stop test test-any-day lint unit bench

$(BIN)/.installed: setup.cfg pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

lab-install:
	bash sip-lab/install

## Set up everything and run the service on the local lab (Asterisk on loopback, SQLite).
run: setup lab-install
	$(IVR) db init
	$(IVR) db seed
	$(IVR) prompts build
	$(IVR) lab up

stop:
	$(IVR) lab down

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

## The whole test suite: lint, types, unit tests, storage on SQLite and PostgreSQL, lab tests on real Asterisk,
## then the clock-sensitive tests again with the machine's clock shifted to other days and hours (faketime).
test: setup lab-install lint
	$(IVR) prompts build
	$(BIN)/pytest -q $(PYTEST_PARALLEL) --durations=30
	$(BIN)/python -m tests.any_day

test-any-day: setup lab-install
	$(IVR) prompts build
	$(BIN)/python -m tests.any_day

unit: setup
	$(BIN)/pytest -q $(PYTEST_PARALLEL) -m "not lab"
