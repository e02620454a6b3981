"""Diversity counts (poetcore.eval.diversity) on hand-made poems, worked out on paper."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.eval.diversity import (
    distinct_characters,
    distinct_first_lines,
    distinct_openings,
    real_yardstick,
    repeated_ngram_share,
    run_diversity,
)


def test_distinct_characters_counts_each_character_once() -> None:
    assert distinct_characters([{"lines": ["春风", "风雨"]}, {"lines": ["雨夜"]}]) == 4  # 春 风 雨 夜
    assert distinct_characters([]) == 0


def test_repeated_ngrams_stay_inside_lines_and_skip_the_topic() -> None:
    poems = [
        {"topic": "月", "lines": ["明月照山", "山高水长"]},  # 明月 月照 skipped; 山山 would cross lines
        {"lines": ["山高水长"]},
        {"topic": "高", "lines": ["山高水长"]},  # 山高 高水 skipped
    ]
    # bigrams counted: 照山 1, 山高 2, 高水 2, 水长 3 (8 occurrences)
    assert repeated_ngram_share(poems, n=2, min_count=2) == 7 / 8
    assert repeated_ngram_share(poems, n=2, min_count=3) == 3 / 8


def test_repeated_four_grams_by_default() -> None:
    stock = {"lines": ["白云深处有人家"]}  # 4 four-grams, each in all three copies
    assert repeated_ngram_share([stock] * 3) == 1.0
    assert repeated_ngram_share([stock] * 3 + [{"lines": ["青山绿水"]}]) == 12 / 13
    assert repeated_ngram_share([stock] * 2) == 0.0  # twice is not yet a habit
    assert math.isnan(repeated_ngram_share([{"topic": "白云", "lines": ["白云白云"]}]))  # nothing left to count


def test_distinct_first_lines_and_openings() -> None:
    firsts = [{"lines": [first, "其二"]} for first in ("甲", "甲", "乙", "丙")]
    assert distinct_first_lines(firsts) == 0.75
    acrostic = [
        {"lines": ["春风吹", "夏日长", "秋月明", "冬雪白"]},
        {"lines": ["春风起", "夏云多", "秋月高", "冬梅开"]},
        {"lines": ["春山远", "夏日照", "秋月落", "冬雪深"]},
        {"lines": ["春风暖", "夏雨来", "秋水寒", "冬雪飞"]},
    ]
    # per line: 春风 春山 | 夏日 夏云 夏雨 | 秋月 秋水 | 冬雪 冬梅
    assert distinct_openings(acrostic) == [2 / 4, 3 / 4, 2 / 4, 2 / 4]
    assert distinct_openings(acrostic, k=1) == [0.25] * 4


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    poems = [{"id": f"p{n}", "form": "七绝" if n % 3 else "五绝", "lines": ["甲乙丙丁戊己" + "子丑寅卯辰巳午未申酉戌亥"[n]] * 4} for n in range(12)]
    with gzip.open(tmp_path / "test.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in poems)
    return tmp_path


def test_the_yardstick_draws_real_qijue_with_the_seed(corpus: Path) -> None:
    drawn = real_yardstick(corpus, 5, seed=1)
    assert len(drawn) == 5 and {p["form"] for p in drawn} == {"七绝"}
    assert drawn == real_yardstick(corpus, 5, seed=1) and drawn != real_yardstick(corpus, 5, seed=2)
    assert len(real_yardstick(corpus, 300)) == 8  # every 七绝 there is, when there are fewer


@pytest.fixture
def one_thread() -> Iterator[None]:
    # One thread: with a second busy process on 2 cores, torch's thread pool is ~20x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_run_diversity_on_the_tiny_model(tiny_model_dir: Path, corpus: Path, one_thread: None) -> None:
    found = run_diversity(["秋月"], model=tiny_model_dir, device="cpu", candidates=1, data_dir=corpus, seeds=2, repeats=2)
    assert found["poems"] == 2 and found["failures"] == 0
    assert found["format_accuracy"] == 1.0 and math.isnan(found["copy_rate"])  # no train split: no copy rate
    assert 0.0 < found["distinct_first_lines_秋月_2"] <= 1.0
    assert len(found["distinct_openings_春夏秋冬_per_line"]) == 4
    assert found["real_poems"] == 2 and found["real_distinct_characters"] == len(set("甲乙丙丁戊己")) + 2


def test_cli_diversity_prints_json(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake(topics: list[str], **kwargs: object) -> dict[str, object]:
        seen.update(kwargs, topics=topics)
        return {"poems": 300, "distinct_characters": 900}

    monkeypatch.setattr("poetcore.cli.main.run_diversity", fake)
    topics = tmp_path / "topics.txt"
    topics.write_text("秋夜\n春晓\n")
    done = CliRunner().invoke(app, ["eval", "--diversity", "--json", "--topics", str(topics), "--seed", "3",
                                    "--model", str(tiny_model_dir)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"poems": 300, "distinct_characters": 900}
    assert seen["topics"] == ["秋夜", "春晓"] and seen["seed"] == 3 and seen["model"] == tiny_model_dir
