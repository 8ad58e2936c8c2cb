# `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test .venv test-deps wrk bench bench-data clean

# The virtualenv with requirements.txt (what the app needs to run) installed;
# redone when it changes.
# On x86-64, Argon2 is then rebuilt from source for this machine's CPU
# (-march=native, as Argon2's own Makefile builds it, so its AVX2 code runs).
# PyPI's wheel is built for any x86-64 CPU and hashes more slowly; the
# hashes are the same (docs/performance.md). Build the venv where
# it runs; never copy it to another machine.
# --no-cache-dir: pip's wheel cache could hand back a build made with other flags.
$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	if [ "$$(uname -m)" = x86_64 ]; then \
	  CFLAGS=-march=native $(BIN)/pip install --quiet --disable-pip-version-check \
	    --force-reinstall --no-deps --no-cache-dir --no-binary argon2-cffi-bindings \
	    "$$(grep '^argon2-cffi-bindings==' requirements.txt)"; \
	fi
	touch $@

.venv: $(STAMP)

# The test tools on top (requirements-dev.txt).
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi create-demo-users
	$(BIN)/flask --app wsgi create-demo-fleet
	$(BIN)/waitress-serve --listen=$(HOST):$(PORT) wsgi:app

# Debian's Chromium for the browser tests (never a downloaded browser build)
# and nginx for the scale-out tests of deploy/nginx.conf.
test-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian's$$missing for the tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: $(DEV_STAMP) test-deps
	$(BIN)/python -m pytest

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the benchmarks..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# The load benchmark beside the old backend (docs/performance.md); about half an hour.
bench: $(STAMP) wrk
	bench/run --check

# How costs grow with the data: small and large databases on SQLite and
# PostgreSQL, built, served and driven (docs/performance.md); about 40 minutes.
bench-data: $(STAMP) wrk
	$(BIN)/python bench/data_bench.py

clean:
	rm -rf $(VENV) .pytest_cache
