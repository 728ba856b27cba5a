# Concord. `make run` serves the app on SQLite; `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
THREADS ?= 8
# Test processes (pytest-xdist), each test file in one of them; TEST_PROCESSES=0 runs them in this one.
TEST_PROCESSES ?= 2
PYTEST_PARALLEL = -n $(TEST_PROCESSES) --dist loadfile
export FLASK_APP := wsgi

.PHONY: run test test-slow test-browser screenshots demo lint audit-deps install install-dev translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Concord needs Python 3.11 or newer (set PYTHON=python3.11)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# One gunicorn worker with THREADS threads (the rate limits count in its memory) and a mail sender beside
# it, writing to instance/outbox/ (app/devserver.py). Production: see README.md.
run: $(VENV)/.runtime
	$(BIN)/python -m app.devserver --host $(HOST) --port $(PORT) --threads $(THREADS)

# The interface's catalogues (app/translations/<lang>/LC_MESSAGES): extract the marked messages from the
# code and templates into messages.pot, merge them into each language's messages.po (new ones empty, changed
# ones fuzzy: tests/test_catalogues.py fails until they are translated), compile the .mo files Concord reads.
# The compiled files are committed, so a fresh clone serves every language without this step.
# --ignore-dirs: Babel's default also skips every folder whose name starts with "_" (templates/_macros).
TRANSLATIONS := app/translations
translations: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg --ignore-dirs ".* __pycache__" -k _ -k N_ -k _l -k ngettext:1,2 -k lazy_gettext \
		--no-location --no-wrap --sort-output --omit-header --project Concord -o $(TRANSLATIONS)/messages.pot .
	@for lang in de es fr; do \
		if [ -f $(TRANSLATIONS)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-wrap --no-fuzzy-matching --ignore-obsolete -i $(TRANSLATIONS)/messages.pot \
				-d $(TRANSLATIONS) -l $$lang; \
		else $(BIN)/pybabel -q init --no-wrap -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; fi; \
	done
	$(BIN)/pybabel -q compile --statistics -d $(TRANSLATIONS)

demo: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask demo

test: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The long race and fault scripts (tests marked `slow`); pytest's status 5 means none are marked yet.
test-slow: $(VENV)/.dev
	@status=0; $(BIN)/python -m pytest -m slow $(PYTEST_PARALLEL) $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "test-slow: no tests are marked slow."; status=0; fi; exit $$status

# The browser tests alone (tests/browser: Playwright driving /usr/bin/chromium against gunicorn). They are
# part of `make test` too; without Chromium they are skipped there (and fail under CI=true).
test-browser: $(VENV)/.dev
	$(BIN)/python -m pytest -m browser tests/browser $(PYTEST_ARGS)

# Regenerate docs/screenshots/*.png from a fresh demo database (needs /usr/bin/chromium).
screenshots: $(VENV)/.dev
	$(BIN)/python -m tests.browser.screenshots

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# Known vulnerabilities in the pinned runtime requirements (PyPI's advisory feed).
audit-deps: $(VENV)/.dev
	$(BIN)/pip-audit --requirement requirements.txt --progress-spinner off $(PIP_AUDIT_ARGS)

# Performance benchmark (issue 17's method, docs/performance.md): SQLite, and PostgreSQL when BENCH_DATABASE_URL
# names a database of its own (its schema is dropped and rebuilt). Not part of `make test`.
# Some rows only: make bench BENCH_ARGS="--rows statement,amendment" (python -m bench --list-rows names them).
.PHONY: bench
bench: $(VENV)/.runtime
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk || true; \
		fi; \
		command -v wrk >/dev/null 2>&1 || echo "wrk is not installed: the load rows use the Python fallback generator." >&2; }
	$(BIN)/python -m bench $(BENCH_ARGS)
