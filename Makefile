# alliance-sim: quick start is `make run` then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format paper bytecode clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else f"alliance-sim needs Python 3.12 or newer, {sys.executable} is {v.major}.{v.minor}; run make with PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,discover,explore,fast]'
	@touch $@

# Bytecode for the package, so that every process (workers too) starts without compiling
# it, also where PYTHONDONTWRITEBYTECODE is set.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q sim

run: bytecode
	$(BIN)/alliance-sim run scenarios/ukraine_ceasefire.yaml

test: bytecode lint
	$(BIN)/python -m pytest -n 2 -q

# The fast tier, for the edit-test loop: no end-to-end processes or large simulations.
test-fast: bytecode
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

paper: bytecode
	$(BIN)/alliance-sim paper --out results/paper

lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check

format: $(STAMP)
	$(BIN)/ruff check --fix
	$(BIN)/ruff format

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
