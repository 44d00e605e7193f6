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
# make run PORT=8001 serves on another port; always on loopback (127.0.0.1).
PORT ?= 8000
URL = http://127.0.0.1:$(PORT)
# django-debug-toolbar is off unless asked for (cookiesite/settings.py).
ifneq ($(filter 1 true yes on True Yes On TRUE YES ON,$(DJANGO_DEBUG_TOOLBAR)),)
TOOLBAR_LINE = Debug toolbar: on (DJANGO_DEBUG_TOOLBAR=$(DJANGO_DEBUG_TOOLBAR)): the DJDT tab at each page's right edge.
else
TOOLBAR_LINE = Debug toolbar: off (DJANGO_DEBUG_TOOLBAR=1 make run turns it on).
endif

.DEFAULT_GOAL := help
.PHONY: help run serve test lint test-postgres screenshots bench bench-log

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Quiet setup, then runserver in the foreground (Ctrl-C stops it, checks and
# autoreload as usual). runserver prints its banner once it has bound the port,
# so a detached loop waits for the port to answer and then prints the summary
# (toolbar, lab URL, admin login): it comes after the banner, as the last lines.
# Unbuffered, so that order holds when the output is piped (into tee, say).
run: $(VENV)/.installed ## set up (SQLite, migrations, local admin) and serve http://127.0.0.1:8000/cookies (PORT=8001: another port)
	@case "$(PORT)" in ''|*[!0-9]*) echo "PORT must be a port number, not '$(PORT)'."; exit 2;; esac
	@$(BIN)/python -c 'import socket, sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", $(PORT))) == 0)' \
		|| { echo "Port $(PORT) is in use; try make run PORT=$$(($(PORT) + 1))."; exit 1; }
	@echo "Applying migrations (quietly)..."
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@admin="$$($(BIN)/python manage.py ensure_local_admin --url $(URL))" || exit 1; \
	server=$$$$; \
	( ( tries=0; \
	  until $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", $(PORT)), 1).close()' 2>/dev/null; do \
	    kill -0 $$server 2>/dev/null || exit 0; \
	    tries=$$((tries + 1)); [ $$tries -lt 150 ] || break; \
	    sleep 0.2; \
	  done; \
	  sleep 0.3; \
	  printf '\n%s\n%s\n%s\n' \
	    "$(TOOLBAR_LINE)" \
	    "Cookie Lab: $(URL)/cookies   (Ctrl-C stops the server)" \
	    "$$admin" ) & ) ; \
	exec env PYTHONUNBUFFERED=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production mode on this machine: migrations, static files (hashed, gzipped)
# and granian, configured by deploy/granian.env. The secret comes from the
# environment; without one, a random key is kept in .secret-key (mode 600) so
# sessions survive a restart. DJANGO_SECURE stays on unless set to 0: behind a
# TLS proxy, or DJANGO_SECURE=0 for plain HTTP on loopback. SIGHUP to the PID
# in PIDFILE reloads gracefully, SIGTERM stops; the log writer flushes either way.
# HOST= binds another address (a private one, behind the proxy); MIGRATE=0
# skips the migrations (servers sharing a database: migrate once, first).
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
HOST ?= 127.0.0.1
MIGRATE ?= 1
PIDFILE ?= .serve-$(PORT).pid
SERVE_ENV = DJANGO_DEBUG=0 \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret-key)}" \
	DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}"
serve: $(VENV)/.installed ## production mode: granian (deploy/granian.env), WhiteNoise, DATABASE_URL (PORT=, WORKERS=, HOST=)
	@case "$(PORT)$(WORKERS)" in *[!0-9]*) echo "PORT and WORKERS must be whole numbers."; exit 2;; esac
	@test -n "$$DJANGO_SECRET_KEY" || $(BIN)/python -c 'import os, secrets; \
		fd = os.open(".secret-key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600); \
		os.write(fd, secrets.token_urlsafe(50).encode())' 2>/dev/null || test -s .secret-key
	@test "$(MIGRATE)" = 0 || $(SERVE_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(SERVE_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@case "$${DJANGO_SECURE:-1}" in 0|false|no|off) scheme=http;; *) scheme=https;; esac; \
	echo "Cookie Lab (production mode) on $(HOST):$(PORT), $(WORKERS) workers, PID in $(PIDFILE)"; \
	[ $$scheme = http ] || echo "DJANGO_SECURE is on: plain HTTP redirects to HTTPS; put a TLS proxy in front (or DJANGO_SECURE=0 on loopback)."
	@set -a && . ./deploy/granian.env && set +a && $(SERVE_ENV) \
		GRANIAN_HOST=$(HOST) GRANIAN_PORT=$(PORT) GRANIAN_WORKERS=$(WORKERS) GRANIAN_PID_FILE=$(PIDFILE) \
		exec $(BIN)/granian cookiesite.wsgi:application 2>&1

# The Firefox tests' driver, puppeteer-core, exactly as locked (it downloads no
# browser), when this machine has npm; without it those tests skip with a message.
FIREFOX_DRIVER := tests/browser/firefox/node_modules/.installed
$(FIREFOX_DRIVER): tests/browser/firefox/package-lock.json
	npm ci --prefix tests/browser/firefox --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.installed lint $(if $(shell command -v npm),$(FIREFOX_DRIVER)) ## install and run the whole test suite (lint, migrations check, pytest)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-postgres: $(VENV)/.installed $(if $(shell command -v npm),$(FIREFOX_DRIVER)) ## the suite against PostgreSQL (PG_URL, default the local server)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest

screenshots: $(VENV)/.installed ## PNGs of the lab and the admin log in docs/screenshots (needs chromium)
	$(BIN)/python scripts/screenshots.py

bench: $(VENV)/.installed ## throughput against Flask and httpbin, nothing lost on reload, two servers behind nginx (QUICK=1: short)
	$(BIN)/python scripts/bench_serve.py $(if $(QUICK),--quick)

bench-log: $(VENV)/.installed ## the log at a million requests: seeding, heavy vs fresh visitor, bytes, admin (REQUESTS=N)
	$(BIN)/python scripts/bench_log.py --requests $(or $(REQUESTS),1000000)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12/python3.13 on PATH)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@
