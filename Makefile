# The commands of the README: `make demo`, `make serve` and `make test`. Each installs first.
SHELL := /bin/bash
# Python comes from pyenv (see .python-version); uv must never download an interpreter.
export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen

.PHONY: install demo serve test lint format graph ci

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen

demo: install
	./bin/demo

# The production stack on this machine (gunicorn, WhiteNoise, the worker, the periodic
# jobs) against DATABASE_URL; see the README's "Running in production".
serve: install
	./bin/serve

# PostgreSQL: with TEST_DATABASE_URL unset and a server at 127.0.0.1:5432 (CI's), bash's own
# probe lets pytest run exactly as it always did. Otherwise bin/pg-private names the server:
# TEST_DATABASE_URL's or 5432's when it answers, else a private cluster under var/ that it
# starts (installing PostgreSQL with apt-get when missing); `bin/pg-private stop` stops it.
test: install
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)
	@if [ -z "$${TEST_DATABASE_URL:-}" ] && (: </dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		echo "$(RUN) pytest"; $(RUN) pytest; \
	else \
		url=$$(.venv/bin/python bin/pg-private) && echo "TEST_DATABASE_URL=$$url $(RUN) pytest" \
		&& TEST_DATABASE_URL=$$url $(RUN) pytest; \
	fi

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) python manage.py makemigrations --check --dry-run
	$(RUN) mypy .
	$(RUN) mypy --scripts-are-modules bin/pg-private
	$(RUN) lint-imports

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

# docs/state-machine.png, the version lifecycle as django-fsm declares it. The command emits
# edges in set order, so a fixed hash seed keeps the layout, and the file, stable.
graph: install
	@command -v dot >/dev/null || (apt-get update && apt-get install -y graphviz)
	set -o pipefail; PYTHONHASHSEED=0 $(RUN) python manage.py graph_transitions \
		automations.AutomationVersion.status | dot -Tpng -o docs/state-machine.png

ci: test lint
