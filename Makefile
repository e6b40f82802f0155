# The two commands of the README: `make demo` and `make test`. Both install first.
SHELL := /bin/bash
# Python comes from pyenv (see .python-version); uv must never download an interpreter.
export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen

.PHONY: install demo test lint format ci

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen

demo: install
	./bin/demo

test: install
	$(RUN) pytest

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) python manage.py makemigrations --check --dry-run
	$(RUN) mypy .

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

ci: test lint
