# The two commands of the README: `make run` opens the viewer, `make test` runs every check.
# Both set up a fresh machine themselves (scripts/bootstrap.sh).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint bench

setup:
	@bash scripts/bootstrap.sh

run: setup
	$(BIN)/depthview $(ARGS)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: setup
	$(BIN)/depthview bench
