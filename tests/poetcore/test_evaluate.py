"""Eval metrics are computed from text by our checker; the bench returns every number it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poetcore.eval.evaluate import EVAL_FORMS, EVAL_TOPICS, distinct_n, run_eval, score_poems

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
DENGGAO = ["风急天高猿啸哀", "渚清沙白鸟飞回", "无边落木萧萧下", "不尽长江滚滚来",
           "万里悲秋常作客", "百年多病独登台", "艰难苦恨繁霜鬓", "潦倒新停浊酒杯"]
JINGYESI = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]


def test_distinct_n_counts_unique_ngrams() -> None:
    assert distinct_n(["ab", "ab"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["abc"], 2) == pytest.approx(1.0)
    assert distinct_n([], 2) == 0.0


def test_score_poems_uses_the_checker() -> None:
    poems = [
        {"form": "七律", "lines": DENGGAO, "topic": "登高"},
        {"form": "五绝", "lines": JINGYESI, "topic": "秋月"},
        {"form": "七绝", "lines": ["春风"], "topic": "夏"},  # wrong shape: format failure
    ]
    m = score_poems(poems, train_lines={"床前明月光"})
    assert m["format_accuracy"] == pytest.approx(2 / 3)
    assert m["tone_accuracy"] == pytest.approx(1 / 3)  # 静夜思 breaks the chart
    assert m["rhyme_accuracy"] == pytest.approx(2 / 3)  # 光 霜 乡 do rhyme (阳)
    # 登高: 登 and 高 both appear; 秋月: only 月; 夏: absent
    assert m["topic_coverage"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["copy_rate"] == pytest.approx(1 / 13)
    assert 0 < m["in_poem_repetition"] < 1
    assert m["unlicensed_dieci"] == 0  # 萧萧, 滚滚: the corpus writes them
    odd = score_poems([{"form": "五绝", "lines": ["月月照山中", "鱼鱼", "萧萧"], "topic": "月"}], None)
    assert odd["unlicensed_dieci"] == 2


def test_eval_topics_are_fixed_and_chinese() -> None:
    assert len(EVAL_TOPICS) == len(set(EVAL_TOPICS)) >= 20
    assert EVAL_FORMS == ("五绝", "七绝", "五律", "七律")


def test_run_eval_on_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "eval.md"
    result = run_eval(n=8, candidates=2, data_dir=FIXTURE, report=report, model=tiny_model_dir)
    m = result["metrics"]
    assert m["poems"] == 8
    # The constraints guarantee the form whatever the weights.
    assert m["format_accuracy"] == m["tone_accuracy"] == m["rhyme_accuracy"] == 1.0
    assert {p["form"] for p in result["poems"]} == set(EVAL_FORMS)
    assert "valid_bpc" in m and m["valid_bpc"] > 0
    text = report.read_text()
    assert "format_accuracy" in text and "七律" in text
    json.dumps(m)


def test_bench_reports_latency_throughput_and_overhead(tiny_model_dir: Path) -> None:
    from poetcore.eval.bench import bench_table, run_bench

    result = run_bench(repeats=1, model=tiny_model_dir, batch_sizes=[1, 2])
    assert set(result["latency"]) == {"n=1", "n=8", "浣溪沙 n=8", "水调歌头 n=8"}  # a short and a long 词 too
    assert all(v["p95_ms"] >= v["p50_ms"] > 0 for v in result["latency"].values())
    assert set(result["throughput_poems_per_s"]) == {"batch=1", "batch=2", "batch=8 n=8"} and result["critic"] is False
    assert result["constraint_overhead"]["constrained_s"] > 0
    assert bench_table(result).row_count >= 10
