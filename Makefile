# databot — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests need: PgBouncer in front of the test PostgreSQL, and
# libseccomp for the sandbox's network filter.
DEB_PACKAGES := pgbouncer libseccomp2

.PHONY: demo test lint typecheck system-deps bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	@missing=""; \
	[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || missing="$$missing pgbouncer"; \
	ldconfig -p | grep -q libseccomp.so.2 || missing="$$missing libseccomp2"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	fi

demo: $(INSTALLED)
	$(BIN)/python -m executor.demo

lint: $(INSTALLED)
	$(BIN)/ruff check .

typecheck: $(INSTALLED)
	$(BIN)/mypy bot handlers executor

test: $(INSTALLED) system-deps lint typecheck
	$(BIN)/pytest

bench: $(INSTALLED) system-deps
	$(BIN)/python -m bench

bench-%: $(INSTALLED) system-deps
	$(BIN)/python -m bench $*

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
