# Advocate Portal — the two commands a fresh machine needs:
#   make run    set up, migrate, load the demo program and serve it with a job consumer
#   make test   set up what the tests need and run the whole suite
# and one for maintainers:
#   make lock   refresh requirements/constraints.txt (the exact versions every install uses)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
# A sign-in link is built from the port the portal serves on: on another port than the
# default the command needs the same PORT, or its link points at a port nobody listens on.
LOGIN_LINK := $(if $(filter 5000,$(PORT)),,PORT=$(PORT) )$(FLASK) login-link
# pyproject.toml declares the ranges the portal works with; this file pins the exact versions
# (tested together) that `make run`, `make test` and CI install. `make lock` refreshes it.
CONSTRAINTS := requirements/constraints.txt
PIP_INSTALL := $(BIN)/pip install --quiet --constraint $(CONSTRAINTS)
# Test processes run in parallel (pytest-xdist); "auto" is one per CPU core.
TEST_WORKERS ?= auto
export PORT

.PHONY: run test install install-dev browser oidc-provider migrate seed clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed
	$(PIP_INSTALL) -e ".[dev]"
	@touch $@

# Resolves pyproject.toml's ranges (with the dev extras) afresh in a throw-away venv and
# writes what was installed, pip included, as exact pins. Commit the result after `make test`.
lock:
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/pip" install --quiet --upgrade pip; \
	"$$tmp/venv/bin/pip" install --quiet -e ".[dev]"; \
	{ echo "# Exact versions for \`make run\`, \`make test\` and CI (pip install --constraint)."; \
	  echo "# Made by \`make lock\` with $$("$$tmp/venv/bin/python" --version) on $$(uname -sm); do not edit by hand."; \
	  echo "# The ranges a release needs are in pyproject.toml."; \
	  "$$tmp/venv/bin/pip" freeze --all --exclude-editable --exclude setuptools --exclude wheel; \
	} > $(CONSTRAINTS).new; \
	mv $(CONSTRAINTS).new $(CONSTRAINTS); \
	echo "$(CONSTRAINTS): $$(grep -c '==' $(CONSTRAINTS)) pinned packages"

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade
	$(FLASK) reference upgrade
	$(FLASK) availability rebuild

seed: migrate
	$(FLASK) seed-demo

run: seed
	@echo ""
	@echo "  Advocate Portal: http://127.0.0.1:$(PORT)"
	@echo "  Sign in as an admin with the password above, or:  $(LOGIN_LINK) admin@example.com"
	@echo "  Sign in as a seller:  $(LOGIN_LINK) staff@example.com"
	@if [ -z "$$PORTAL_SMTP_HOST" ]; then echo "  Email is not sent without PORTAL_SMTP_HOST: read it at http://127.0.0.1:$(PORT)/admin/mailbox"; fi
	@echo ""
	@$(BIN)/huey_consumer portal.jobs.huey --workers 2 --worker-type thread --quiet & consumer=$$!; \
	trap 'kill $$consumer 2>/dev/null; wait $$consumer 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work
# here); PDFs need Pango for WeasyPrint.
SYSTEM_PACKAGES := chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! /sbin/ldconfig -p | grep -q libpangoft2-1.0; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing system packages (sudo apt-get install $(SYSTEM_PACKAGES)): browser and PDF tests need them."; \
	  fi; \
	fi

# The single sign-on tests run node-oidc-provider (a standards-compliant OpenID provider),
# pinned by tests/oidc_provider/package-lock.json; they need Node.js 20 and npm.
OIDC_PROVIDER := tests/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --silent
oidc-provider: $(OIDC_PROVIDER)/node_modules/.package-lock.json

test: install-dev browser oidc-provider
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) instance .pytest_cache $(OIDC_PROVIDER)/node_modules
