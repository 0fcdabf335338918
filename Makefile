# leadrouter: `make run` (Prefect server + scheduled flows on the sandbox CRM) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# a run killed mid-flight frees its deployment concurrency slot after this lease, not after 5 minutes
export PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION := 60
# route-inbound queues a run that finds another routing (ENQUEUE): retry it every second, not every 30
export PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS := 1
export PREFECT_API_URL ?= http://127.0.0.1:4200/api
export LEADROUTER_STORE_URL ?= sqlite:///$(CURDIR)/var/leadrouter.db
export LEADROUTER_SANDBOX_PATH ?= $(CURDIR)/var/sandbox.db

.PHONY: run test test-unit lint format bench clean venv

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	# bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set, every process would recompile its imports
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

run: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python deployments/run_local.py

# every layer; --durations names the slowest tests so each run shows where the time goes
# pytest-xdist workers, one per core here: each has its own PostgreSQL and Prefect test server, and a test
# file stays on one worker (its module fixtures are built once). 18 min in one process, 9 in two.
WORKERS ?= 2

test: venv
	env -u PREFECT_API_URL $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --durations=10

# the inner loop: the core alone, no PostgreSQL, no Prefect server, no HTTP
test-unit: venv
	env -u PREFECT_API_URL $(BIN)/python -m pytest tests/unit -n $(WORKERS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	env -u PREFECT_API_URL $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .prefect var .pytest_cache .ruff_cache
