# Branch Ops. A fresh machine needs only Python 3.11: every target sets up what it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help setup run worker test e2e screenshots chromium lint audit messages makemessages serve vendor vendor-fonts bench chaos chaos-smoke check-deploy backup restore clean

help:
	@echo "make run     - set up, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test    - the whole test suite against real PostgreSQL"
	@echo "make e2e     - only the real-browser tests (Playwright + Debian's Chromium)"
	@echo "make screenshots - refresh docs/screenshots/ from the browser tests"
	@echo "make lint    - ruff"
	@echo "make audit   - pip-audit: known vulnerabilities in the installed packages (needs the network)"
	@echo "make serve   - gunicorn (production-style) on $(HOST):$(PORT)"
	@echo "make worker  - the background worker (webhooks, complaint clock)"
	@echo "make backup  - pg_dump the app database to backups/<timestamp>.dump"
	@echo "make restore FILE=backups/....dump - restore into a new database, verify, then swap"
	@echo "make chaos   - bank workload over HTTP with faults (killed connections, workers, PostgreSQL restarts)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Branch Ops needs Python 3.11, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) messages

# Translations are compiled with Babel (pure Python): no GNU gettext needed.
messages: $(STAMP)
	@$(PY) -m branch_ops.i18n compile

# Refresh locale/*/django.po from the source (a developer step: needs GNU gettext).
makemessages: $(STAMP)
	command -v xgettext >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext)
	$(PY) manage.py makemessages -l ar -l it -l zh_Hans --no-obsolete --ignore='.venv/*' --ignore='static/vendor/*'

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py createcachetable
	$(PY) manage.py procrastinate worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# The background worker (procrastinate on the same PostgreSQL): webhook deliveries every 5 s,
# the complaint clock every 30 s. Run one or more beside the web processes.
worker: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py procrastinate worker

backup: setup
	$(PY) manage.py backup_db

restore: setup
	@test -n "$(FILE)" || (echo "usage: make restore FILE=backups/<timestamp>.dump" && exit 2)
	$(PY) manage.py restore_db $(FILE)

test: setup chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests (tests/e2e, marked e2e) alone. They also run in `make test`.
e2e: setup chromium
	$(PY) -m pytest -p no:xdist -m e2e tests/e2e $(PYTEST_ARGS)

# Refresh docs/screenshots/*.png (each role's main screen) from the browser tests.
screenshots: setup chromium
	E2E_SAVE_SCREENSHOTS=1 $(PY) -m pytest -p no:xdist -m e2e tests/e2e $(PYTEST_ARGS)

# Debian's Chromium for the browser tests (Playwright never downloads its own). If it cannot
# be installed (no apt, no root), the browser tests are skipped with a loud reason.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "WARNING: chromium could not be installed: the browser tests (tests/e2e) will be SKIPPED"
# Known vulnerabilities in the installed packages (pip-audit against PyPI's advisory data).
# Needs the network, so it is not part of `make test`. --strict: a package that could not be
# checked is a failure, not a silent pass. AUDIT_SERVICE=osv uses the OSV database instead.
AUDIT_SERVICE ?= pypi
audit: $(STAMP)
	$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off -s $(AUDIT_SERVICE)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

serve: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput
	export PROMETHEUS_MULTIPROC_DIR=$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/.prometheus}; \
	rm -rf $$PROMETHEUS_MULTIPROC_DIR && mkdir -p $$PROMETHEUS_MULTIPROC_DIR; \
	$(VENV)/bin/gunicorn branch_ops.wsgi --config branch_ops/gunicorn_conf.py --bind $(HOST):$(PORT) \
	  --workers $${WEB_CONCURRENCY:-3} --access-logfile -

check-deploy: setup
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=branch.example.com $(PY) manage.py check --deploy --fail-level WARNING

# Copy Bootstrap and HTMX from their pinned npm packages into static/vendor (committed).
vendor:
	npm install --no-save --no-audit --no-fund
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.rtl.min.css \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js static/vendor/bootstrap/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/

# The statement PDF's fonts (Noto Sans: Latin, Arabic, the common Simplified Chinese
# subset) from their pinned npm packages into static/vendor/fonts (committed).
FONTS = node_modules/@fontsource
vendor-fonts:
	npm install --no-save --no-audit --no-fund
	mkdir -p static/vendor/fonts
	cp $(FONTS)/noto-sans-arabic/files/noto-sans-arabic-latin-400-normal.woff \
	   $(FONTS)/noto-sans-arabic/files/noto-sans-arabic-latin-ext-400-normal.woff \
	   $(FONTS)/noto-sans-arabic/files/noto-sans-arabic-arabic-400-normal.woff \
	   $(FONTS)/noto-sans-sc/files/noto-sans-sc-chinese-simplified-400-normal.woff static/vendor/fonts/
	cp $(FONTS)/noto-sans-arabic/LICENSE static/vendor/fonts/OFL-noto-sans-arabic.txt
	cp $(FONTS)/noto-sans-sc/LICENSE static/vendor/fonts/OFL-noto-sans-sc.txt

clean:
	rm -rf $(VENV) staticfiles

# Every benchmark part against references of the same run (pgbench TPC-B, ...), then one
# summary table; writes bench/README.md. Shorter: make bench BENCH_ARGS='--seconds 2 --no-readme'
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

# A bank workload over HTTP against gunicorn while connections, workers and PostgreSQL are
# killed and restarted; checks that no money was lost or doubled (docs/chaos.md).
# Options: make chaos CHAOS_ARGS='--seconds 30 --clients 2'
chaos: setup
	$(PY) chaos/run.py $(CHAOS_ARGS)

# The same, short (6 s, 2 clients, no PostgreSQL restart), as a pytest test: ~40 s.
chaos-smoke: setup
	CHAOS_SMOKE=1 $(PY) -m pytest tests/chaos -p no:cacheprovider
