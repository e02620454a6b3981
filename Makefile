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
	$(BIN)/pip install -q -e ".[dev,telegram,discord,cards]"  # cards: the poem cards' font (PyPI)
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check poetcore worker bots tests benchmarks scripts
	$(BIN)/mypy poetcore worker bots

test: setup lint
	$(BIN)/pytest -q

# Interactive console chat in a terminal; a short scripted session when piped or in CI.
DEMO_SCRIPT := /poem 秋月 七绝\n/cang 春夏秋冬 七绝\n/poem 送别 五律 韵=东\n/xu 白日依山尽 五绝\n/check 床前明月光，疑是地上霜。举头望明月，低头思故乡。\n/forms\n/as 李白\n/fhl 月\n/a 床前明月光\n/as 杜甫\n/a 月涌大江流\n/a 床前明月光\n/a 明月几时来\n/a 春眠不觉晓\n/hint\n/as 李白\n/a 明月松间照\n/stop\n/rank\n/as\n/fhl 花 对战\n/a 花落知多少\n/stop\n/jieju 题数=1\n/hint\n/stop\n
demo: setup
	@if [ -t 0 ]; then $(BIN)/poetbot demo; else printf '$(DEMO_SCRIPT)' | $(BIN)/poetbot demo; fi

bench: setup
	$(BIN)/poetcore bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
