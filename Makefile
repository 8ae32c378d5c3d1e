# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
# pytest worker processes (pytest-xdist; 0 runs the suite in one process)
TEST_WORKERS ?= 2

$(BIN)/tracker: pyproject.toml requirements/lake.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Error: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/lake.txt
	$(BIN)/pip install --quiet -e '.[test,lake]'
	@touch $(BIN)/tracker

.PHONY: install demo test lint
install: $(BIN)/tracker

demo: install
	$(BIN)/tracker demo

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	scripts/test-postgres
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
