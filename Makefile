# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
RUN_STAMP := $(VENV)/.run-stamp
TOOLS_STAMP := tests/tools/node_modules/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install translations run test test-postgres db-upgrade seed bench bench-search bench-http clean

# Two layers: what running the shop needs (RUN_STAMP: `make run`), then the test tools (STAMP:
# `make test`), so a newcomer's first `make run` does not wait for Playwright, schemathesis & co.
$(RUN_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Compiled message catalogues are build output (not committed); rebuilt when a .po file changes.
PO_FILES := $(wildcard shop/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
$(MO_FILES) &: $(PO_FILES) $(RUN_STAMP)
	$(VENV)/bin/pybabel compile -d shop/translations > /dev/null

translations: $(MO_FILES)

# The page checkers (Nu HTML Checker, axe-core) from the npm registry, pinned by the lock file;
# without npm, tests/test_page_checks.py is skipped (and fails in CI).
$(TOOLS_STAMP): tests/tools/package-lock.json
	@if command -v npm > /dev/null; then \
	  npm ci --prefix tests/tools --no-audit --no-fund --ignore-scripts --silent && touch $(TOOLS_STAMP); \
	else echo "npm not found: the page checks (tests/test_page_checks.py) will be skipped" >&2; fi

db-upgrade: $(RUN_STAMP)
	$(FLASK) db upgrade

seed: db-upgrade
	$(FLASK) seed-demo --if-empty

## Serve the shop on http://127.0.0.1:5000 (SQLite in instance/, demo catalogue seeded when empty).
run: translations seed
	$(FLASK) run --host $(HOST) --port $(PORT)

## Run the test suite (SQLite by default; set TEST_DATABASE_URL for PostgreSQL).
test: translations $(STAMP) $(TOOLS_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## The same suite against the local PostgreSQL.
test-postgres:
	TEST_DATABASE_URL=$(PG_TEST_URL) $(MAKE) test

## Latency and SQL statements per page on a large generated catalogue (see scripts/bench.py).
bench: translations $(STAMP)
	PYTHONPATH=. $(PY) scripts/bench.py $(BENCH_ARGS)
	PYTHONPATH=. $(PY) scripts/bench.py --search $(BENCH_SEARCH_ARGS)

## Search only: page and suggestions at 1,000 / 10,000 / 100,000 products
## (BENCH_SEARCH_ARGS="--sizes 1000,10000 --requests 20"; BENCH_DATABASE_URL for PostgreSQL).
bench-search: translations $(STAMP)
	PYTHONPATH=. $(PY) scripts/bench.py --search $(BENCH_SEARCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache tests/tools/node_modules

## Throughput over HTTP (gunicorn + wrk) per page against a bare route, at 1,000 / 10,000 / 100,000
## products (seeded once under instance/bench/; DATABASE_URL=postgresql+psycopg://… for PostgreSQL).
bench-http: translations $(STAMP)
	PYTHONPATH=. $(PY) scripts/bench.py --http $(BENCH_ARGS)
