# RATC Ops — the two commands a new user needs: `make demo` and `make test`.
# Nothing but Python 3.11+ and make is assumed: the virtualenv and the locked packages are made here.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SIMULATE ?= 1
SPEED  ?= 60

.PHONY: install demo training serve test test-fast lint format lock bench clean

## install: the virtualenv with what `make demo`, `make test` and the benchmarks need: the development lock
## (requirements/dev.txt: production's pins plus the test and bench extras). A production server installs
## requirements/lock.txt alone (README, "Dependencies").
install: $(VENV)/.installed

$(VENV)/.installed: requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	@touch $@

## demo: migrate, create the demo world (idempotent) and serve it with Daphne on http://127.0.0.1:8000,
## with a simulated day of arrivals running inside the server (SIMULATE=0 keeps the floor still)
demo: install
	RATC_DEMO=1 $(BIN)/python manage.py migrate --noinput
	RATC_DEMO=1 $(BIN)/python manage.py demo_world
	RATC_DEMO=1 $(BIN)/python manage.py simulate_floor --setup-only
	RATC_DEMO=1 DJANGO_DEBUG=0 RATC_SIMULATE=$(SIMULATE) RATC_SIMULATE_SPEED=$(SPEED) $(BIN)/daphne -b $(HOST) -p $(PORT) ratc_ops.asgi:application

## training: a training floor beside the live one — its own SQLite file (var/training.sqlite3), or
## RATC_TRAINING_DATABASE_URL on PostgreSQL — set up, then served on http://127.0.0.1:8001 (docs/training.md)
TRAINING_PORT ?= 8001
training: install
	RATC_TRAINING=1 $(BIN)/python manage.py migrate --noinput
	RATC_TRAINING=1 $(BIN)/python manage.py training_floor setup
	RATC_TRAINING=1 DJANGO_DEBUG=0 $(BIN)/daphne -b $(HOST) -p $(TRAINING_PORT) ratc_ops.asgi:application

## test: the whole suite (browser tests run when Chromium is installed; CI requires them)
test: install
	$(BIN)/python -m pytest -n auto --dist loadfile --durations=30

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy apps

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## lock: re-resolve both locks from pyproject.toml (needs uv: pip install uv): production's alone, then
## development's with production's pins as constraints, so that both install the same versions
lock:
	uv pip compile pyproject.toml --python-version 3.11 -o requirements/lock.txt
	uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 -c requirements/lock.txt -o requirements/dev.txt

clean:
	rm -rf $(VENV) var artifacts
