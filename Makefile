# Aftersale: `make demo` runs it, `make test` checks it. Both need only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
# The demo runs with DEBUG on: console email, development secrets kept under .data/.
DEMO_ENV := DEBUG=true PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: install browser demo test lint web worker beat stop clean samples messages

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Aftersale needs Python 3.11 or newer; set PYTHON=python3.11") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: install
	$(DEMO_ENV) python manage.py migrate --noinput
	$(DEMO_ENV) python manage.py seed_demo
	$(DEMO_ENV) honcho --no-prefix -f Procfile.demo start

# The tests run in one pytest-xdist worker per CPU (PYTEST_WORKERS=1 for one process); each
# worker has its own test database, cache prefix and task queue.
PYTEST_WORKERS ?= auto
test: install lint browser
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# The browser tests drive the system's Chromium through Playwright (no browser download).
# Missing, it is installed from Debian's packages as root or with sudo; elsewhere, install
# Chromium or Chrome yourself and point CHROMIUM at it.
CHROMIUM ?= $(or $(shell command -v chromium 2>/dev/null),/usr/bin/chromium)
browser:
	@test -x "$(CHROMIUM)" || { \
	  command -v apt-get >/dev/null || { echo "browser tests need Chromium: install it and set CHROMIUM=/path/to/chromium" >&2; exit 2; }; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "Installing Debian's chromium package for the browser tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; \
	}

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

web: install
	$(BIN)/gunicorn config.wsgi:application

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

# Stop the embedded PostgreSQL and Redis (they outlive `make demo` so the next start is fast).
stop: install
	DEBUG=true $(BIN)/python -m config.embedded stop

clean: stop
	rm -rf .data $(VENV)

# Every email template rendered in every language, into samples/ (open samples/index.html).
samples: install
	DEBUG=true $(BIN)/python manage.py email_samples --output samples

# Extract the strings to translate into locale/fr/LC_MESSAGES/django.po, and compile it after
# editing (both need GNU gettext: apt-get install gettext, brew install gettext).
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l fr --no-location --ignore=.venv --ignore=.data --ignore=tests --ignore=bench
	DEBUG=true $(BIN)/python manage.py compilemessages --ignore=.venv
