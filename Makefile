# The two commands of the README: `make run` opens the viewer, `make test` runs every check.
# Both set up a fresh machine themselves (scripts/bootstrap.sh): `run` installs only what
# running needs, `test` adds what the checks need.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup-run setup-test lint bench

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
