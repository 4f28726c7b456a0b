# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what it needs; nothing else has to be done by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test serve check lint bench migration clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

system-deps:
	@bash scripts/system-deps.sh

demo: $(VENV)/.installed
	$(BIN)/social-campaign demo

serve: $(VENV)/.installed
	$(BIN)/social-campaign serve

check: $(VENV)/.installed
	$(BIN)/social-campaign check

test: $(VENV)/.installed-test system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/pip install -q ruff mypy
	$(BIN)/ruff check .
	$(BIN)/mypy social_campaign

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks $(NAME)

migration: $(VENV)/.installed
	$(BIN)/python scripts/regenerate_migration.py $(MESSAGE)

clean:
	rm -rf $(VENV) .social-campaign .demo
