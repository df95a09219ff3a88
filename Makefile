# warmstation — `make run` starts the demo, `make test` runs the whole suite. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (Django 6 needs it): from PATH, else pyenv.
PY312 := $(shell command -v python3.12 2>/dev/null || (command -v pyenv >/dev/null && echo "$$(pyenv root)/versions/$$(pyenv versions --bare | grep -E '^3\.12(\.|$$)' | tail -1)/bin/python"))
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages: Chromium for browser tests, CJK fonts for screenshots and PDFs, gettext for
# translations, poppler for reading PDFs in tests, PgBouncer for the city setup test (tests/test_replica.py).
APT_PACKAGES := chromium fonts-noto-cjk fonts-wqy-microhei gettext poppler-utils poppler-data wrk pgbouncer

.PHONY: help setup system-deps run serve test test-fast lint fmt bench totp clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-12s %s\n", $$1, $$2}'

system-deps: ## Install the Debian packages the project needs (only those missing)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x "$(PY312)" || { echo "Python 3.12 not found (install it, or pyenv install 3.12)"; exit 1; }
	@test -x $(PY) || $(PY312) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install -q uv==0.13.8
	$(UV) sync --frozen --python $(PY) -q
	@touch $@

# Browser assets from npm (uPlot), pinned by package-lock.json; no install scripts run.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found (install Node.js, e.g. Debian's nodejs + npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

setup: system-deps $(VENV)/.synced node_modules/.installed ## Create the environment and install everything
	@$(MANAGE) compilemessages -v0 --ignore=.venv

run: setup ## Set up, migrate, load the Fangshan demo data, start web server + task worker + periodic jobs on :8000
	$(MANAGE) migrate -v0
	$(MANAGE) collectstatic_if_stale
	$(MANAGE) seed_demo
	@echo ""
	@echo "warmstation: http://$(HOST):$(PORT)/   (Ctrl-C stops the web server, the task worker and the periodic jobs)"
	@# The supervisor (warmstation/core/supervisor.py) restarts a program that exits and, on
	@# Ctrl-C, stops them all within 10 s; docs/operations.md#processes has the numbers.
	@exec $(MANAGE) supervise --host $(HOST) --port $(PORT)

# Production (docs/operations.md#make-serve): settings from the environment, checked first.
WEB_WORKERS ?= 2
TASK_WORKERS ?= 2
PROD := WARMSTATION_ENV=production
serve: $(VENV)/.synced ## Production: granian (several workers) + task workers + periodic jobs on DATABASE_URL and REDIS_URL
	@test -n "$$DJANGO_SECRET_KEY$$SECRET_KEY" || { echo "make serve: set DJANGO_SECRET_KEY (docs/operations.md#settings)"; exit 1; }
	@test -n "$$DATABASE_URL" || { echo "make serve: set DATABASE_URL (PostgreSQL)"; exit 1; }
	@test -n "$$REDIS_URL" || { echo "make serve: set REDIS_URL (rate limits shared by every process)"; exit 1; }
	@test -n "$$ALLOWED_HOSTS" || { echo "make serve: set ALLOWED_HOSTS"; exit 1; }
	@$(MANAGE) compilemessages -v0 --ignore=.venv
	$(PROD) $(MANAGE) check --deploy --fail-level WARNING
	$(PROD) $(MANAGE) migrate --noinput -v0
	$(PROD) $(MANAGE) collectstatic --noinput -v0
	@echo "warmstation (production): http://$(HOST):$(PORT)/ behind your TLS proxy"
	@$(PROD) exec $(MANAGE) supervise --production --host $(HOST) --port $(PORT) --web-workers $(WEB_WORKERS) --task-workers $(TASK_WORKERS)

# The suite runs in one process per core (pytest-xdist), a test module per process at a time, so
# module-scoped data is still built once; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test: setup ## Run the whole suite (browser tests included) on DATABASE_URL, SQLite by default
	$(PYTEST) $(ARGS)

test-fast: setup ## The suite without the browser tests
	$(PYTEST) -m "not browser" $(ARGS)

lint: $(VENV)/.synced node_modules/.installed ## ruff, mypy, import layering (lint-imports), and models in step with migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(MANAGE) makemigrations --check --dry-run -v1

fmt: $(VENV)/.synced ## Format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

totp: $(VENV)/.synced ## Current TOTP code of a demo admin: make totp M=13800000006
	@$(MANAGE) totp_now $(M)

bench: setup ## Benchmarks (see bench/RESULTS.md)
	@if ls bench/*.py >/dev/null 2>&1; then for b in bench/bench_*.py; do $(PY) $$b; done; else echo "no benchmarks yet"; fi

clean: ## Remove the environment and local data (var/)
	rm -rf $(VENV) var
