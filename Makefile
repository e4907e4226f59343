# The two commands of the README: `make run` opens the viewer, `make test` runs every check.
# Both set up a fresh machine themselves (scripts/bootstrap.sh): `run` installs only what
# running needs, `test` adds what the checks need.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup-run setup-test lint bench fuzz

setup-run:
	@bash scripts/bootstrap.sh run

setup-test:
	@bash scripts/bootstrap.sh test

run: setup-run
	$(BIN)/depthview $(ARGS)

lint: setup-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: setup-test
	$(BIN)/depthview bench

# Coverage-guided fuzzing (atheris) of every parser of untrusted files, FUZZ_SECONDS per
# target; `make test` runs a short pass (tests/test_fuzz.py).
FUZZ_SECONDS ?= 300

fuzz: setup-test
	$(BIN)/python tests/fuzz/fuzz_parsers.py all --seconds $(FUZZ_SECONDS)
