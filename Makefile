# Two commands: `make test` and `make demo`. Both create .venv on first use (CPU torch).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup test demo lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[dev,telegram,discord]"
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check poetcore worker bots tests benchmarks

test: setup lint
	$(BIN)/pytest

demo: setup
	$(BIN)/poetbot demo

bench: setup
	$(BIN)/poetcore bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
