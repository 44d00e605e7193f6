# Cookie Lab. `make run` serves the lab, `make test` runs the whole suite.
# Both set everything up on a fresh machine: virtual environment, packages,
# database, local admin.

VENV := .venv
BIN := $(VENV)/bin
# The first Python 3.12+ on PATH (pyenv reads .python-version: 3.13).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.DEFAULT_GOAL := help
.PHONY: help run test lint test-postgres screenshots bench bench-log

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: $(VENV)/.installed ## set up (SQLite, migrations, local admin) and serve http://127.0.0.1:8000/cookies
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_local_admin
	@echo "Cookie Lab: http://127.0.0.1:8000/cookies"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(VENV)/.installed lint ## install and run the whole test suite (lint, migrations check, pytest)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-postgres: $(VENV)/.installed ## the suite against PostgreSQL (PG_URL, default the local server)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest

screenshots: $(VENV)/.installed ## PNGs of the lab and the admin log in docs/screenshots (needs chromium)
	$(BIN)/python scripts/screenshots.py

bench: $(VENV)/.installed ## load check of the logging path on SQLite and PostgreSQL (prints figures)
	$(BIN)/python scripts/bench_lab.py

bench-log: $(VENV)/.installed ## the log at a million requests: seeding, heavy vs fresh visitor, bytes, admin (REQUESTS=N)
	$(BIN)/python scripts/bench_log.py --requests $(or $(REQUESTS),1000000)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12/python3.13 on PATH)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@
