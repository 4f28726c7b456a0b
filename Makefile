# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what it needs; nothing else has to be done by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test serve check lint bench migration clean system-deps messages catalogs node-deps

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

# npm dev tools (axe-core for the browser tests, Lighthouse for `make bench NAME=lighthouse`); quiet, skipped without npm.
node-deps:
	@if ! command -v npm >/dev/null 2>&1; then echo "npm not found: the axe-core browser tests will be skipped" >&2; \
	elif [ ! node_modules/.package-lock.json -nt package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error >/dev/null || echo "warning: npm ci failed" >&2; fi

test: $(VENV)/.installed-test system-deps node-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/pip install -q ruff mypy
	$(BIN)/ruff check .
	$(BIN)/mypy social_campaign

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks $(NAME)

LOCALE := social_campaign/i18n/locale

# Extract every marked string (Python, page and email templates) and merge it into each language's catalogue.
messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _ --no-location --sort-output --omit-header \
		-o $(LOCALE)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages --ignore-obsolete --no-fuzzy-matching

# Compile the catalogues the app reads (messages.po -> messages.mo); tests fail when one is stale or incomplete.
catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -d $(LOCALE) -D messages --statistics

migration: $(VENV)/.installed
	$(BIN)/python scripts/regenerate_migration.py $(MESSAGE)

clean:
	rm -rf $(VENV) .social-campaign .demo
