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
DEMO_SCRIPT := /poem 秋月 七绝\n/cang 春夏秋冬 七绝\n/poem 送别 五律 韵=东\n/xu 春眠不觉晓，处处闻啼鸟\n/ci 浣溪沙 秋思\n/check 水调歌头 明月几时有？把酒问青天。不知天上宫阙，今夕是何年。我欲乘风归去，又恐琼楼玉宇，高处不胜寒。起舞弄清影，何似在人间。转朱阁，低绮户，照无眠。不应有恨，何事长向别时圆？人有悲欢离合，月有阴晴圆缺，此事古难全。但愿人长久，千里共婵娟。\n/check 床前明月光，疑是地上霜。举头望明月，低头思故乡。\n/forms\n/as 李白\n/fhl 月\n/a 床前明月光\n/as 杜甫\n/a 月涌大江流\n/a 床前明月光\n/a 明月几时来\n/a 春眠不觉晓\n/hint\n/as 李白\n/a 明月松间照\n/stop\n/rank\n/as\n/fhl 花 对战\n/a 花落知多少\n/stop\n/jieju 题数=1\n/hint\n/stop\n
demo: setup
	@if [ -t 0 ]; then $(BIN)/poetbot demo; else printf '$(DEMO_SCRIPT)' | $(BIN)/poetbot demo; fi

bench: setup
	$(BIN)/poetcore bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
