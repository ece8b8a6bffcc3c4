# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
CHROMIUM := /usr/lib/chromium/chromium

.PHONY: run test install install-dev translations chromium lint extract-messages update-catalogs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.dev-installed

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

# Debian's Chromium and fonts for CJK, Korean and Arabic, installed once when missing.
chromium:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list | grep -qi "wenquanyi\|noto sans cjk"; then \
		echo "Installing Debian's chromium and fonts (needs root)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei fonts-noto-core >/dev/null; \
	fi

run: translations
	FLASK_ENV_MODE=development $(FLASK) db upgrade heads
	FLASK_ENV_MODE=development $(FLASK) demo seed
	FLASK_ENV_MODE=development $(FLASK) analytics refresh
	FLASK_ENV_MODE=development SESSION_COOKIE_SECURE=0 $(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev translations chromium
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -n 2

lint: install-dev
	$(BIN)/ruff check .

# For developers: refresh the catalogs after changing interface text.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k _ln:1,2 -k lazy_ngettext:1,2 --no-location --sort-output -o translations/messages.pot .

update-catalogs: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

bench: install-dev
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
