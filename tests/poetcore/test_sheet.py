"""Blind-reading sheets (poetcore.eval.sheet): pairs hide their source, answers are scored against the key."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.eval.sheet import (
    KEY_FILE,
    SHEET_FILE,
    Side,
    load_topics,
    score_sheet,
    side_metrics,
    write_sheet,
)
from poetcore.model.testing import make_tiny_model


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("other-model"), seed=1)


def test_the_shipped_topic_list_has_30_fresh_topics() -> None:
    from poetcore.eval.evaluate import EVAL_TOPICS

    topics = load_topics()
    assert len(topics) == len(set(topics)) == 30 and not set(topics) & set(EVAL_TOPICS)


def test_sheet_hides_the_source_and_the_key_keeps_it(tiny_model_dir: Path, other_model: Path, tmp_path: Path) -> None:
    key = write_sheet(Side("old", tiny_model_dir), Side("new", other_model), tmp_path, topics=["秋月", "春雨", "江雪"],
                      candidates=1, seed=5)
    sheet = (tmp_path / SHEET_FILE).read_text(encoding="utf-8")
    assert len(key["items"]) == 6 and sheet.count("- A: ") == sheet.count("- B: ") == 6
    assert "old" not in sheet and "new" not in sheet and str(tiny_model_dir) not in sheet
    assert {(i["A"], i["B"]) for i in key["items"]} <= {("old", "new"), ("new", "old")}
    for item in key["items"]:
        for label in ("A", "B"):
            assert item["poems"][item[label]]["text"] in sheet.replace(f"- {label}: ", "\n")
    again = write_sheet(Side("old", tiny_model_dir), Side("new", other_model), tmp_path / "again",
                        topics=["秋月", "春雨", "江雪"], candidates=1, seed=5)
    assert again["items"] == key["items"]  # fixed seeds: anyone can rerun it


def test_scores_join_answers_with_the_key(tiny_model_dir: Path, other_model: Path, tmp_path: Path) -> None:
    key = write_sheet(Side("old", tiny_model_dir), Side("new", other_model), tmp_path, topics=["秋月", "春雨"],
                      candidates=1, seed=9)
    # Reader 1 finds every "new" poem coherent and prefers it; reader 2 finds nothing coherent, no preference.
    first = {str(i["item"]): {"A": i["A"] == "new", "B": i["B"] == "new", "prefer": "A" if i["A"] == "new" else "B"}
             for i in key["items"]}
    second = {str(i["item"]): {"A": False, "B": False, "prefer": "="} for i in key["items"]}
    (tmp_path / "answers-r1.json").write_text(json.dumps(first))
    (tmp_path / "answers-r2.json").write_text(json.dumps(second))
    result = score_sheet(tmp_path)
    assert result["readers"] == 2 and result["items"] == 4
    assert result["coherent_share"] == {"old": 0.0, "new": 0.5}
    assert result["preferred"] == {"old": 0, "new": 4, "=": 4}
    assert result["coherent_share_per_reader"]["r1"] == {"old": 0.0, "new": 1.0}
    metrics = result["text_metrics"]
    assert set(metrics) == {"old", "new"} and metrics["new"]["poems"] == 4
    assert math.isnan(metrics["new"]["copy_rate"])  # no corpus given: no copy rate, rather than a false 0


def test_side_metrics_count_copies_against_the_corpus(tiny_model_dir: Path, other_model: Path, tmp_path: Path) -> None:
    key = write_sheet(Side("old", tiny_model_dir), Side("new", other_model), tmp_path / "sheet", topics=["秋月"],
                      candidates=1, seed=9)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    copied = key["items"][0]["poems"]["old"]["lines"][0]  # the corpus now holds one line of side old
    with gzip.open(corpus / "train.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"title": "x", "lines": [copied, "白日依山尽"]}, ensure_ascii=False) + "\n")
    metrics = side_metrics(key, corpus)
    old_lines = sum(len(i["poems"]["old"]["lines"]) for i in key["items"])
    assert metrics["old"]["copy_rate"] >= 1 / old_lines
    new_copies = sum(line == copied for i in key["items"] for line in i["poems"]["new"]["lines"])
    assert metrics["new"]["copy_rate"] == new_copies / sum(len(i["poems"]["new"]["lines"]) for i in key["items"])


def test_cli_writes_and_scores(tiny_model_dir: Path, other_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet"
    topics = tmp_path / "topics.txt"
    topics.write_text("# two\n秋月\n")
    runner = CliRunner()
    done = runner.invoke(app, ["eval", "--sheet", str(out), "--model", str(tiny_model_dir), "--against",
                               str(other_model), "--candidates", "1", "--topics", str(topics)], env={"POETCORE_DEVICE": "cpu"})
    assert done.exit_code == 0, done.output
    assert (out / KEY_FILE).exists() and (out / SHEET_FILE).exists()
    missing = runner.invoke(app, ["eval", "--score-sheet", str(out)])
    assert missing.exit_code == 2 and "answers-" in missing.output
    same = runner.invoke(app, ["eval", "--sheet", str(out), "--model", str(other_model), "--against", str(other_model)])
    assert same.exit_code == 2 and "same directory" in same.output


def test_a_side_can_be_composed_by_another_checkout(tiny_model_dir: Path, tmp_path: Path) -> None:
    # The other checkout here is this one: the same model composed in a child process must give the
    # same poems as composing in-process, which is what makes "old code vs new code" sheets fair.
    root = Path(__file__).resolve().parents[2]
    key = write_sheet(Side("here", tiny_model_dir), Side("there", tiny_model_dir, root), tmp_path,
                      topics=["秋月", "春雨"], candidates=1, seed=3)
    for item in key["items"]:
        assert item["poems"]["here"]["text"] == item["poems"]["there"]["text"]
    assert key["sides"]["there"].endswith(f"(code: {root})")
    with pytest.raises(FileNotFoundError, match="no poetcore checkout"):
        write_sheet(Side("a", tiny_model_dir), Side("b", tiny_model_dir, tmp_path), tmp_path / "x", topics=["秋月"])
    bad = CliRunner().invoke(app, ["eval", "--sheet", str(tmp_path / "y"), "--model", str(tiny_model_dir),
                                   "--against", str(tiny_model_dir), "--against-code", str(tmp_path)])
    assert bad.exit_code == 2 and "no poetcore checkout" in bad.output
