# The two commands of the README: `make run` and `make test`. Both create .venv when it is
# missing and (re)install the project when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7001
DATA ?= ./data

.PHONY: install run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/vigil server --data $(DATA) --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check vigil tests bench
	$(BIN)/ruff format --check vigil tests bench

typecheck: install
	$(BIN)/mypy vigil

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench.login
	$(BIN)/python -m bench.permissions

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
