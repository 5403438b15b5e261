# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install translations run test test-postgres db-upgrade seed bench bench-search bench-http clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Compiled message catalogues are build output (not committed).
translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d shop/translations > /dev/null

db-upgrade: install
	$(FLASK) db upgrade

seed: db-upgrade
	$(FLASK) seed-demo --if-empty

## Serve the shop on http://127.0.0.1:5000 (SQLite in instance/, demo catalogue seeded when empty).
run: translations seed
	$(FLASK) run --host $(HOST) --port $(PORT)

## Run the test suite (SQLite by default; set TEST_DATABASE_URL for PostgreSQL).
test: translations
	$(PY) -m pytest $(PYTEST_ARGS)

## The same suite against the local PostgreSQL.
test-postgres:
	TEST_DATABASE_URL=$(PG_TEST_URL) $(MAKE) test

## Latency and SQL statements per page on a large generated catalogue (see scripts/bench.py).
bench: translations
	PYTHONPATH=. $(PY) scripts/bench.py $(BENCH_ARGS)
	PYTHONPATH=. $(PY) scripts/bench.py --search $(BENCH_SEARCH_ARGS)

## Search only: page and suggestions at 1,000 / 10,000 / 100,000 products
## (BENCH_SEARCH_ARGS="--sizes 1000,10000 --requests 20"; BENCH_DATABASE_URL for PostgreSQL).
bench-search: translations
	PYTHONPATH=. $(PY) scripts/bench.py --search $(BENCH_SEARCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache

## Throughput over HTTP (gunicorn + wrk) per page against a bare route, at 1,000 / 10,000 / 100,000
## products (seeded once under instance/bench/; DATABASE_URL=postgresql+psycopg://… for PostgreSQL).
bench-http: translations
	PYTHONPATH=. $(PY) scripts/bench.py --http $(BENCH_ARGS)
