"""Blind-reading sheets with real controls (poetcore.eval.sheet, poetcore.eval.controls).

Sheets are composed for real, by the tiny model (the sheet's assembly is under test, not the model's
poems), and the CLI's default side by the shipped model. 词 sheets (issue 24) draw real 词 of the same
词牌 and 正体 shape from the fixture's 词 splits.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.eval.controls import (
    CI_CONTROL_SOURCE,
    CONTROL_SOURCE,
    cipai_of,
    control_pool,
    draw_controls,
    is_famous,
)
from poetcore.eval.sheet import (
    KEY_FILE,
    REAL,
    SHEET_FILE,
    SIDE_SEED_STRIDE,
    Side,
    assemble,
    couplets,
    load_topics,
    markdown_table,
    read_answers,
    score_sheet,
    side_metrics,
    write_sheet,
)
from poetcore.lines.index import open_line_index
from poetcore.prosody.forms import get_form
from poetcore.text.chars import poem_sentences

CHARS = "山水云烟松竹梅兰江湖风雨霜雪花草鸟虫溪桥村舍渔樵钟鼓楼台灯影琴书酒茶"
FAMOUS = ["两个黄鹂鸣翠柳", "一行白鹭上青天", "窗含西岭千秋雪", "门泊东吴万里船"]


def made_up(i: int, chars: str = CHARS, width: int = 7) -> str:
    """A line no poet wrote (nor any index holds): ``width`` characters stepped through ``chars``."""
    return "".join(chars[(5 * i + 3 * k) % len(chars)] for k in range(width))


def real_poem(n: int, form: str = "七绝", lines: list[str] | None = None) -> dict[str, Any]:
    width = 7 if form.startswith("七") else 5
    count = 4 if form.endswith("绝") else 8
    return {"id": f"song-{n}", "dynasty": "song", "form": form, "title": f"题{n}号", "author": f"作者{n}号",
            "lines": lines or [made_up(10 * n + k, width=width) for k in range(count)]}


XI, YJN = get_form("浣溪沙"), get_form("望江南")  # 忆江南: the corpus names its package 望江南忆江南
YAN_SHU = ["一曲新词酒一杯", "去年天气旧亭台", "夕阳西下几时回", "无可奈何花落去", "似曾相识燕归来", "小园香径独徘徊"]
"""晏殊's 浣溪沙, in 宋词三百首: a reader knows it."""


def real_ci(name: str, form: Any, lengths: tuple[int, ...] | None = None, marks: str | None = None,
            lines: list[str] | None = None) -> dict[str, Any]:
    """A corpus 词 of ``form``'s 词牌; its chart's 正体 shape unless ``lengths``/``marks`` say otherwise."""
    lengths = lengths or form.line_lengths
    n = sum(map(ord, name))
    return {"id": name, "cipai": cipai_of(form), "author": f"词人{name}",
            "lines": lines or [made_up(n + 7 * k, width=w) for k, w in enumerate(lengths)],
            "marks": marks or form.variants[0].punctuation}


CI_TEST = [
    real_ci("ci-1", XI), real_ci("ci-2", XI), real_ci("ci-3", YJN),
    real_ci("ci-famous", XI, lines=YAN_SHU),
    real_ci("ci-other-shape", XI, (7, 7, 7, 3, 7, 7, 7, 3), "。。。。，。。。"),  # 摊破浣溪沙's shape
    real_ci("ci-other-breaks", XI, marks="。。。。。。"),  # the segments of the chart, not its breaks
    real_ci("ci-single", YJN, (3, 5, 7, 7, 5), "，。，。。"),  # the one-stanza 望江南
    real_ci("ci-pusaman", get_form("菩萨蛮")),
]
CI_VALID = [real_ci("ci-4", XI), real_ci("ci-5", YJN), real_ci("ci-6", YJN),
            {**CI_TEST[0], "id": "ci-1-again"}]  # the same 词 in two splits is one 词


def write_split(path: Path, split: str, poems: list[dict[str, Any]]) -> None:
    with gzip.open(path / f"{split}.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in poems)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared corpus with 16 unknown 七绝, 2 unknown 五律, and 2 七绝 a reader may know: one
    wholly famous, one with a single famous line; and 词 (`CI_TEST`, `CI_VALID`): unknown 浣溪沙 and
    忆江南 of the chart's shape in both splits, and 浣溪沙 that must never be drawn."""
    path = tmp_path_factory.mktemp("corpus")
    poems = [real_poem(n) for n in range(16)] + [real_poem(n, "五律") for n in (20, 21)]
    poems.append({**real_poem(30), "id": "tang-famous", "lines": FAMOUS})
    poems.append({**real_poem(31), "id": "tang-one-famous-line", "lines": [made_up(1), FAMOUS[2], made_up(2), made_up(3)]})
    write_split(path, "test", poems)
    write_split(path, "ci_test", CI_TEST)
    write_split(path, "ci_valid", CI_VALID)
    return path


UNKNOWN_QIJUE = {f"song-{n}" for n in range(16)}


@pytest.fixture
def loads(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    """How many models the composer has loaded so far: a sheet that cannot be built must fail before."""
    caplog.set_level(logging.INFO, logger="poetcore.compose")
    return lambda: sum(r.getMessage().startswith("composer: loaded") for r in caplog.records)


def test_the_shipped_topic_list_has_30_fresh_topics() -> None:
    from poetcore.eval.evaluate import EVAL_TOPICS

    topics = load_topics()
    assert len(topics) == len(set(topics)) == 30 and not set(topics) & set(EVAL_TOPICS)


def test_the_fake_corpus_lines_are_unknown_except_the_famous_ones(corpus: Path) -> None:
    index = open_line_index(None)
    assert is_famous(FAMOUS, index) and is_famous([made_up(1), FAMOUS[2]], index)
    assert not any(is_famous(real_poem(n)["lines"], index) for n in range(16))


def test_famous_poems_are_never_drawn(corpus: Path) -> None:
    pool = control_pool(corpus, ["七绝"])
    assert {p["id"] for p in pool["七绝"]} == UNKNOWN_QIJUE
    drawn = draw_controls(corpus, ["七绝"] * 16, seed=1)  # every unknown 七绝, and nothing else
    assert {p["id"] for p in drawn} == UNKNOWN_QIJUE
    with pytest.raises(ValueError, match="16 unknown 七绝"):
        draw_controls(corpus, ["七绝"] * 17, seed=1)


def test_controls_follow_the_forms_and_the_seed(corpus: Path) -> None:
    drawn = draw_controls(corpus, ["七绝", "五律", "七绝"], seed=3)
    assert [p["form"] for p in drawn] == ["七绝", "五律", "七绝"]
    assert set(drawn[0]) == {"id", "dynasty", "form", "title", "author", "lines"}
    assert draw_controls(corpus, ["七绝"] * 6, seed=3) == draw_controls(corpus, ["七绝"] * 6, seed=3)
    assert draw_controls(corpus, ["七绝"] * 6, seed=3) != draw_controls(corpus, ["七绝"] * 6, seed=4)
    for no_controls in ("七绝仄韵", "沁园春慢"):  # a form the corpus does not label, a name no form has
        with pytest.raises(ValueError, match=f"no real controls for {no_controls}"):
            draw_controls(corpus, [no_controls], seed=3)


def test_ci_controls_are_unknown_ci_of_the_same_cipai_and_chart_shape(corpus: Path) -> None:
    pool = control_pool(corpus, ["浣溪沙", "望江南"])
    assert set(pool) == {"浣溪沙", "忆江南"}  # by the form's own name
    assert [p["id"] for p in pool["浣溪沙"]] == ["ci-1", "ci-2", "ci-4"]  # test split first, then valid
    assert [p["id"] for p in pool["忆江南"]] == ["ci-3", "ci-5", "ci-6"]
    assert [p["split"] for p in pool["忆江南"]] == ["ci_test", "ci_valid", "ci_valid"]
    with pytest.raises(ValueError, match="0 unknown 沁园春 in its ci_test and ci_valid splits"):
        draw_controls(corpus, ["沁园春"], seed=3)  # charted, but no real one to draw


def test_ci_controls_come_from_the_test_split_before_the_valid_one(corpus: Path) -> None:
    for seed in range(5):
        assert {p["id"] for p in draw_controls(corpus, ["浣溪沙"] * 2, seed)} == {"ci-1", "ci-2"}
    drawn = draw_controls(corpus, ["浣溪沙", "望江南", "浣溪沙", "忆江南", "浣溪沙"], seed=1)
    assert [p["form"] for p in drawn] == ["浣溪沙", "忆江南", "浣溪沙", "忆江南", "浣溪沙"]
    assert {p["id"] for p in drawn} == {"ci-1", "ci-2", "ci-4", "ci-3"} | {drawn[1]["id"], drawn[3]["id"]}
    assert {p["id"] for p in drawn if p["form"] == "忆江南"} & {"ci-3"}  # the one test-split 忆江南 is taken
    assert set(drawn[0]) == {"id", "dynasty", "form", "title", "author", "lines", "marks", "split"}
    for p in drawn:
        form = get_form(p["form"])
        assert tuple(map(len, p["lines"])) == form.line_lengths and p["marks"] == form.variants[0].punctuation
    with pytest.raises(ValueError, match="3 unknown 浣溪沙 in its ci_test and ci_valid splits; the sheet needs 4"):
        draw_controls(corpus, ["浣溪沙"] * 4, seed=1)


def test_a_corpus_without_ci_cannot_give_ci_controls(tmp_path: Path) -> None:
    write_split(tmp_path, "test", [real_poem(1)])
    assert len(draw_controls(tmp_path, ["七绝"], seed=1)) == 1
    with pytest.raises(FileNotFoundError, match=r"ci_test\.jsonl\.gz missing.*poetcore data prepare"):
        draw_controls(tmp_path, ["七绝", "浣溪沙"], seed=1)


def test_assemble_shuffles_machine_and_real_poems_together() -> None:
    jobs = [(f"题{i}", "七绝", 100 + i) for i in range(20)]
    machine = {"ours": [{"lines": [made_up(i)] * 4, "lm_logprob": -1.0} for i in range(20)]}
    real = [real_poem(n) for n in range(20)]
    items = assemble({"ours": jobs}, machine, real, seed=7)
    assert [i["item"] for i in items] == list(range(1, 41))
    order = [i["side"] for i in items]
    assert order.count("ours") == order.count(REAL) == 20
    assert order != sorted(order) and order != sorted(order, reverse=True)  # mixed, not one block then the other
    again = {"ours": jobs}
    assert assemble(again, machine, real, seed=7) == items and assemble(again, machine, real, seed=8) != items
    ours = next(i for i in items if i["side"] == "ours")
    assert {"topic", "seed", "lm_logprob"} <= set(ours) and not {"title", "author"} & set(ours)
    theirs = next(i for i in items if i["side"] == REAL)
    assert {"id", "title", "author", "dynasty"} <= set(theirs) and "topic" not in theirs


def test_sheet_hides_the_source_and_holds_every_poem(
    tiny_model_dir: Path, corpus: Path, loads: Callable[[], int], tmp_path: Path
) -> None:
    secret = tmp_path / "models" / "secret-model"
    shutil.copytree(tiny_model_dir, secret)
    key = write_sheet([Side("cand-x", secret), Side("base-y", tiny_model_dir)], tmp_path / "round", data_dir=corpus,
                      topics=["秋月", "春雨", "江雪"], forms=["七绝"], seed=5, candidates=1)
    text = (tmp_path / "round" / SHEET_FILE).read_text(encoding="utf-8")
    assert json.loads((tmp_path / "round" / KEY_FILE).read_text(encoding="utf-8")) == key
    sides = [i["side"] for i in key["items"]]
    assert sides.count("cand-x") == sides.count("base-y") == 3 and sides.count(REAL) == 6  # as many real as ours
    assert key["version"] == 2 and key["seed"] == 5 and set(key["sides"]) == {"cand-x", "base-y", REAL}
    for hidden in ["cand-x", "base-y", REAL, "secret-model", str(tmp_path), "秋月", "春雨", "江雪", "《",
                   *(i[k] for i in key["items"] if i["side"] == REAL for k in ("id", "title", "author"))]:
        assert hidden not in text
    assert re.findall(r"^## (\d+)\. (\S+)$", text, re.M) == [(str(n), "七绝") for n in range(1, 13)]
    for item in key["items"]:
        block = text.split(f"## {item['item']}. 七绝\n", 1)[1].split("\n## ", 1)[0]
        assert [row.strip() for row in block.strip().splitlines()] == couplets(item["lines"])
    assert '"score"' in text and '"guess"' in text and "answers-" in text
    assert text.index("请逐首") < text.index("Read each")  # Chinese first, then English


def test_real_and_machine_poems_look_alike(tiny_model_dir: Path, corpus: Path, tmp_path: Path) -> None:
    key = write_sheet([Side("ours", tiny_model_dir)], tmp_path, data_dir=corpus, topics=["秋月", "春雨"], forms=["七绝"], seed=2)
    text = (tmp_path / SHEET_FILE).read_text(encoding="utf-8")
    shapes = {re.sub(r"\w", "字", text.split(f"## {i['item']}. ", 1)[1].split("\n## ", 1)[0]) for i in key["items"]}
    assert len(shapes) == 1  # same heading, same punctuation, same spacing, real or not


def test_a_seed_rebuilds_the_sheet_and_a_new_seed_draws_new_controls(
    tiny_model_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    def build(seed: int | None, name: str) -> tuple[dict[str, Any], str]:
        key = write_sheet([Side("ours", tiny_model_dir)], tmp_path / name, data_dir=corpus, topics=["秋月", "春雨", "江雪"],
                          forms=["七绝"], seed=seed)
        return key, (tmp_path / name / SHEET_FILE).read_text(encoding="utf-8")

    first, again, other = build(5, "first"), build(5, "again"), build(6, "other")
    assert again == first
    real_ids = [[i["id"] for i in key["items"] if i["side"] == REAL] for key, _ in (first, other)]
    assert real_ids[0] != real_ids[1]
    fresh, fresh_too = build(None, "fresh")[0], build(None, "fresh-too")[0]
    assert isinstance(fresh["seed"], int) and fresh["seed"] != fresh_too["seed"]  # drawn fresh, and recorded
    assert build(fresh["seed"], "rerun")[0]["items"] == fresh["items"]


def test_bad_sheets_fail_before_composing(
    tiny_model_dir: Path, corpus: Path, loads: Callable[[], int], tmp_path: Path
) -> None:
    three = {"topics": ["秋月", "春雨", "江雪"], "forms": ["七绝"]}
    with pytest.raises(ValueError, match="at least as many real poems"):
        write_sheet([Side("a", None), Side("b", None)], tmp_path, data_dir=corpus, controls=2, **three)
    with pytest.raises(FileNotFoundError, match="poetcore data prepare"):
        write_sheet([Side("a", None)], tmp_path, data_dir=tmp_path / "nowhere", **three)
    with pytest.raises(FileNotFoundError, match="no poetcore checkout"):
        write_sheet([Side("a", None), Side("b", None, tmp_path)], tmp_path, data_dir=corpus, **three)
    with pytest.raises(ValueError, match="distinct names"):
        write_sheet([Side(REAL, None)], tmp_path, data_dir=corpus, **three)
    assert loads() == 0
    key = write_sheet([Side("a", tiny_model_dir), Side("b", tiny_model_dir)], tmp_path, data_dir=corpus, controls=3,
                      candidates=1, **three)
    assert sum(i["side"] == REAL for i in key["items"]) == 3  # as many as the largest side is enough


def test_the_tiny_model_composes_a_reproducible_sheet(tiny_model_dir: Path, corpus: Path, tmp_path: Path) -> None:
    args: dict[str, Any] = {"data_dir": corpus, "topics": ["秋月", "春雨"], "forms": ["七绝"], "seed": 5, "candidates": 1}
    key = write_sheet([Side("ours", tiny_model_dir)], tmp_path / "one", **args)
    text = (tmp_path / "one" / SHEET_FILE).read_text(encoding="utf-8")
    ours = [i for i in key["items"] if i["side"] == "ours"]
    assert len(ours) == 2 and sum(i["side"] == REAL for i in key["items"]) == 2
    for item in ours:
        assert [len(line) for line in item["lines"]] == [7, 7, 7, 7] and isinstance(item["lm_logprob"], float)
        assert all(row in text for row in couplets(item["lines"]))
    assert str(tiny_model_dir) not in text and str(tiny_model_dir) in key["sides"]["ours"]
    assert write_sheet([Side("ours", tiny_model_dir)], tmp_path / "two", **args)["items"] == key["items"]


def test_a_side_can_be_composed_by_another_checkout(tiny_model_dir: Path, corpus: Path, tmp_path: Path) -> None:
    # The other checkout here is this one: the same model composed in a child process must give the
    # same poems as composing in-process, which is what makes "old code vs new code" sheets fair.
    root = Path(__file__).resolve().parents[2]
    poems = {}
    for side in (Side("here", tiny_model_dir), Side("there", tiny_model_dir, root)):
        key = write_sheet([side], tmp_path / side.name, data_dir=corpus, topics=["秋月"], forms=["七绝", "浣溪沙"],
                          candidates=1, seed=3)
        poems[side.name] = [(i["form"], i["lines"], i.get("marks")) for i in key["items"] if i["side"] != REAL]
    assert poems["here"] == poems["there"]
    assert {(form, marks) for form, _, marks in poems["there"]} == {("七绝", None), ("浣溪沙", "。。。，。。")}
    assert key["sides"]["there"].endswith(f"(code: {root})")


def test_each_side_composes_under_seeds_of_its_own(tiny_model_dir: Path, corpus: Path, tmp_path: Path) -> None:
    """Two close systems under one seed write near twins, which readers spot as a template (round 12)."""
    key = write_sheet([Side("a", tiny_model_dir), Side("b", tiny_model_dir)], tmp_path / "sheet", data_dir=corpus,
                      topics=["秋月", "春雨"], forms=["七绝"], seed=5, candidates=1)
    seeds = {(i["side"], i["topic"]): i["seed"] for i in key["items"] if i["side"] != REAL}
    assert seeds == {("a", "秋月"): 5, ("a", "春雨"): 6, ("b", "秋月"): 5 + SIDE_SEED_STRIDE,
                     ("b", "春雨"): 6 + SIDE_SEED_STRIDE}
    bad = CliRunner().invoke(app, ["eval", "--sheet", str(tmp_path / "y"), "--model", str(tiny_model_dir),
                                   "--against", str(tiny_model_dir), "--against-code", str(tmp_path)])
    assert bad.exit_code == 2 and "no poetcore checkout" in bad.output


def block(text: str, item: dict[str, Any]) -> list[str]:
    """The rows printed under an item's heading."""
    body = text.split(f"## {item['item']}. {item['form']}\n", 1)[1].split("\n## ", 1)[0]
    return [row.strip() for row in body.strip().splitlines()]


def test_a_ci_sheet_composes_draws_the_same_cipai_prints_sentences_and_scores(
    tiny_model_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    key = write_sheet([Side("ours", tiny_model_dir)], tmp_path, data_dir=corpus, topics=["秋思", "春晚"],
                      forms=["浣溪沙", "望江南"], seed=5, candidates=1)
    assert key["forms"] == ["浣溪沙", "忆江南"] and key["sides"][REAL] == f"{CI_CONTROL_SOURCE} ({corpus})"
    ours = [i for i in key["items"] if i["side"] == "ours"]
    real = [i for i in key["items"] if i["side"] == REAL]
    assert sorted((i["topic"], i["form"]) for i in ours) == [("春晚", "忆江南"), ("春晚", "浣溪沙"), ("秋思", "忆江南"),
                                                            ("秋思", "浣溪沙")]
    assert sorted(i["form"] for i in real) == ["忆江南", "忆江南", "浣溪沙", "浣溪沙"]
    assert {i["id"] for i in real if i["form"] == "浣溪沙"} == {"ci-1", "ci-2"}  # the test split has two
    assert "ci-3" in {i["id"] for i in real}
    for item in key["items"]:  # machine and real alike: the chart's 正体, breaks kept in the key
        form = get_form(item["form"])
        assert tuple(map(len, item["lines"])) == form.line_lengths and item["marks"] == form.variants[0].punctuation
    text = (tmp_path / SHEET_FILE).read_text(encoding="utf-8")
    assert re.findall(r"^## (\d+)\. (\S+)$", text, re.M) == [(str(i["item"]), i["form"]) for i in key["items"]]
    for item in key["items"]:
        assert block(text, item) == poem_sentences(item["lines"], item["marks"])
        assert len(block(text, item)) == item["marks"].count("。")  # a sentence per row
    for name in ("浣溪沙", "忆江南"):  # nothing in the print tells real from ours
        shapes = {re.sub(r"\w", "字", "\n".join(block(text, i))) for i in key["items"] if i["form"] == name}
        assert len(shapes) == 1
    for hidden in ["ours", REAL, "秋思", "春晚", "ci_test", "ci_valid", *(i["author"] for i in real), "以下诗作"]:
        assert hidden not in text
    assert "以下诗词" in text

    _answers(tmp_path, "r1", {i["item"]: (4, H) if i["side"] == REAL else (2, M) for i in key["items"]})
    result = score_sheet(tmp_path, corpus)
    assert result["sides"]["ours"]["coherent_share"] == 0.0 and result["sides"][REAL]["coherent_share"] == 1.0
    assert result["detection_accuracy"] == 1.0
    metrics = result["text_metrics"]
    assert set(metrics) == {"ours", REAL}
    # the decoder guarantees the chart; the real ones were drawn in its shape
    assert metrics["ours"]["format_accuracy"] == metrics[REAL]["format_accuracy"] == 1.0
    assert metrics["ours"]["tone_accuracy"] == metrics["ours"]["rhyme_accuracy"] == 1.0
    assert "rhyme_dominant_reading_share" not in metrics["ours"] and "topic_coverage" not in metrics[REAL]
    assert math.isnan(metrics["ours"]["copy_rate"])  # the fixture has no ci_train: no copy rate, not a false 0


def test_a_sheet_mixes_shi_and_ci(tiny_model_dir: Path, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet"
    topics = tmp_path / "topics.txt"
    topics.write_text("秋思\n")
    done = CliRunner().invoke(app, ["eval", "--sheet", str(out), "--model", str(tiny_model_dir), "--candidates", "1",
                                    "--topics", str(topics), "--forms", "七绝，浣溪沙", "--seed", "4",
                                    "--data", str(corpus)], env={"POETCORE_DEVICE": "cpu"})
    assert done.exit_code == 0, done.output
    key = json.loads((out / KEY_FILE).read_text(encoding="utf-8"))
    assert key["forms"] == ["七绝", "浣溪沙"] and len(key["items"]) == 4
    text = (out / SHEET_FILE).read_text(encoding="utf-8")
    for item in key["items"]:
        assert ("marks" in item) == (item["form"] == "浣溪沙")
        rows = couplets(item["lines"]) if item["form"] == "七绝" else poem_sentences(item["lines"], item["marks"])
        assert block(text, item) == rows
    assert CONTROL_SOURCE in key["sides"][REAL] and CI_CONTROL_SOURCE in key["sides"][REAL]  # both sources
    _answers(out, "r1", {i["item"]: (3, H) for i in key["items"]})
    scored = CliRunner().invoke(app, ["eval", "--score-sheet", str(out), "--data", str(corpus)])
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.stdout)
    assert result["sides"]["a"]["poems"] == 2 and result["sides"][REAL]["poems"] == 2
    assert set(result["text_metrics"]) == {"a·诗", "a·词", "real·诗", "real·词"}  # never averaged together
    assert all(m["poems"] == 1 for m in result["text_metrics"].values())
    bad = CliRunner().invoke(app, ["eval", "--sheet", str(tmp_path / "x"), "--model", str(tiny_model_dir),
                                   "--topics", str(topics), "--forms", "七绝仄韵", "--data", str(corpus)])
    assert bad.exit_code == 2 and "no real controls for 七绝仄韵" in bad.output


# Scoring: a key written by hand, so every expected number can be worked out on paper.

def _key(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    sides = {1: "a", 2: REAL, 3: "a", 4: REAL, 5: "b", 6: "b"}
    items = []
    for n, side in sides.items():
        item: dict[str, Any] = {"item": n, "side": side, "form": "七绝", "lines": [made_up(4 * n + k) for k in range(4)]}
        item |= {"id": f"song-{n}", "title": "t", "author": "x", "dynasty": "song"} if side == REAL else \
            {"topic": "秋月", "seed": n, "lm_logprob": -float(n)}
        items.append(item)
    key = {"version": 2, "seed": 11, "forms": ["七绝"], "sides": {"a": "A", "b": "B", REAL: "corpus"}, "items": items}
    (tmp_path / KEY_FILE).write_text(json.dumps(key, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def _answers(tmp_path: Path, reader: str, answers: dict[int, tuple[int, str] | None]) -> None:
    raw = {str(n): (None if a is None else {"score": a[0], "guess": a[1]}) for n, a in answers.items()}
    (tmp_path / f"answers-{reader}.json").write_text(json.dumps(raw), encoding="utf-8")


H, M = "human", "machine"
R1 = {1: (5, H), 2: (3, H), 3: (2, M), 4: (1, M), 5: (4, M), 6: (3, H)}
R2 = {1: (3, M), 2: (4, H), 3: (1, M), 5: (5, H), 6: (1, M)}  # item 4 unanswered


def test_scores_join_answers_with_the_key(tmp_path: Path) -> None:
    out = _key(tmp_path)
    _answers(out, "r1", R1)
    _answers(out, "r2", {**R2, 4: None})  # null: unanswered, like a missing entry
    result = score_sheet(out)
    assert result["readers"] == 2 and result["items"] == 6 and result["seed"] == 11
    assert result["unanswered"] == {"r1": [], "r2": [4]}
    a, b, real = (result["sides"][s] for s in ("a", "b", REAL))
    # a: (5 h) (2 m) | (3 m) (1 m)
    assert a["poems"] == 2 and a["answers"] == 4
    assert a["coherent_share"] == 0.5 and a["coherent_share_per_reader"] == {"r1": 0.5, "r2": 0.5}
    assert a["mean_score"] == 2.75 and a["taken_for_human"] == 0.25 and a["detection_accuracy"] == 0.75
    assert a["mean_lm_logprob"] == -2.0
    # b: (4 m) (3 h) | (5 h) (1 m)
    assert b["coherent_share"] == 0.75 and b["coherent_share_per_reader"] == {"r1": 1.0, "r2": 0.5}
    assert b["mean_score"] == 3.25 and b["taken_for_human"] == 0.5 and b["detection_accuracy"] == 0.5
    # real: (3 h) (1 m) | (4 h)
    assert real["answers"] == 3 and real["coherent_share"] == pytest.approx(2 / 3)
    assert real["coherent_share_per_reader"] == {"r1": 0.5, "r2": 1.0}
    assert real["mean_score"] == pytest.approx(8 / 3) and real["taken_for_human"] == pytest.approx(2 / 3)
    assert real["detection_accuracy"] == pytest.approx(2 / 3) and "mean_lm_logprob" not in real
    assert result["detection_accuracy"] == pytest.approx(7 / 11)
    assert result["detection_accuracy_per_reader"] == {"r1": 0.5, "r2": 0.8}
    assert result["ranking"] == ["b", "a"]
    metrics = result["text_metrics"]
    assert set(metrics) == {"a", "b", REAL} and metrics["a"]["poems"] == 2 and metrics[REAL]["poems"] == 2
    assert metrics["a"]["distinct_characters"] == len({ch for n in (1, 3) for k in range(4) for ch in made_up(4 * n + k)})
    assert "topic_coverage" in metrics["a"] and "topic_coverage" not in metrics[REAL]
    assert math.isnan(metrics["a"]["copy_rate"])  # no corpus given: no copy rate, rather than a false 0


def test_one_machine_side_has_no_ranking_and_the_table_reads_the_scores(tmp_path: Path) -> None:
    out = _key(tmp_path)
    _answers(out, "r1", R1)
    _answers(out, "r2", R2)
    table = markdown_table(score_sheet(out))
    assert table.splitlines()[0] == "| | a (2) | b (2) | real (2) |"
    assert "| coherent share per reader | 50 / 50% | 100 / 50% | 50 / 100% |" in table
    assert "| mean score (1–5) | 2.75 | 3.25 | 2.67 |" in table
    assert "| taken for human | 25.0% | 50.0% | 66.7% |" in table
    assert "| detection accuracy | 75.0% | 50.0% | 66.7% |" in table
    assert "2 readers · overall detection accuracy 63.6% · unanswered: r2 1 · seed 11" in table
    key = json.loads((out / KEY_FILE).read_text(encoding="utf-8"))
    key["items"] = [i for i in key["items"] if i["side"] != "b"]
    key["sides"].pop("b")
    (out / KEY_FILE).write_text(json.dumps(key), encoding="utf-8")
    _answers(out, "r1", {n: a for n, a in R1.items() if n < 5})
    _answers(out, "r2", {n: a for n, a in R2.items() if n < 5})
    assert score_sheet(out)["ranking"] is None


@pytest.mark.parametrize(("answer", "error"), [
    ({"2": {"score": 6, "guess": "human"}}, "answers-bad.json, item 2: score must be a whole number from 1 to 5"),
    ({"2": {"score": True, "guess": "human"}}, "answers-bad.json, item 2: score"),
    ({"2": {"score": 3}}, 'answers-bad.json, item 2: guess must be "human" or "machine"'),
    ({"3": {"score": 3, "guess": "robot"}}, "answers-bad.json, item 3: guess"),
    ({"9": {"score": 3, "guess": "human"}}, "answers-bad.json, item 9: the sheet has no such item"),
    ({"2": "3 human"}, "answers-bad.json, item 2: expected"),
    ([3, "human"], "answers-bad.json: expected an object"),
])
def test_invalid_answers_raise_a_clear_error(tmp_path: Path, answer: Any, error: str) -> None:
    out = _key(tmp_path)
    (out / "answers-bad.json").write_text(json.dumps(answer), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(error)):
        score_sheet(out)


def test_read_answers_keeps_valid_answers_and_skips_nulls(tmp_path: Path) -> None:
    path = tmp_path / "answers-r.json"
    path.write_text(json.dumps({"1": {"score": 1, "guess": "machine"}, "3": None, "2": {"score": 5, "guess": "human"}}))
    assert read_answers(path, [1, 2, 3]) == {1: (1, "machine"), 2: (5, "human")}


def test_old_pair_sheets_are_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text(json.dumps({"sides": {"a": "x", "b": "y"}, "items": []}), encoding="utf-8")
    _answers(tmp_path, "r1", {})
    with pytest.raises(ValueError, match="A/B pair sheet"):
        score_sheet(tmp_path)


def test_side_metrics_count_copies_against_the_corpus(tmp_path: Path) -> None:
    out = _key(tmp_path / "sheet")
    key = json.loads((out / KEY_FILE).read_text(encoding="utf-8"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    copied = key["items"][0]["lines"][0]  # the corpus now holds one line of side a (item 1)
    with gzip.open(corpus / "train.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"title": "x", "lines": [copied, "白日依山尽"]}, ensure_ascii=False) + "\n")
    metrics = side_metrics(key, corpus)
    assert metrics["a"]["copy_rate"] == 1 / 8 and metrics["b"]["copy_rate"] == 0.0 and metrics[REAL]["copy_rate"] == 0.0


def _ci_item(n: int, side: str, lines: list[str], form: str = "浣溪沙") -> dict[str, Any]:
    item: dict[str, Any] = {"item": n, "side": side, "form": form, "lines": lines,
                            "marks": get_form(form).variants[0].punctuation[: len(lines)]}
    return item | ({"id": f"ci-{n}", "title": "", "author": "x", "dynasty": ""} if side == REAL else
                   {"topic": "秋思", "seed": n, "lm_logprob": -1.0})


def test_ci_metrics_read_the_ci_chart_and_the_ci_corpus(tmp_path: Path) -> None:
    broken = [*YAN_SHU[:4], "似曾相识燕归去", YAN_SHU[5]]  # a tone and a rhyme fault in line 5
    items = [_ci_item(1, "a", YAN_SHU), _ci_item(2, "a", broken), _ci_item(3, REAL, YAN_SHU[:2]),  # 3: no 浣溪沙 shape
             _ci_item(4, REAL, YAN_SHU)]
    key = {"version": 2, "seed": 1, "forms": ["浣溪沙"], "sides": {"a": "A", REAL: "corpus"}, "items": items}
    write_split(tmp_path, "ci_train", [{"id": "ci-9", "cipai": "浣溪沙", "lines": ["似曾相识燕归来", "白日依山尽"],
                                        "marks": "，。"}])
    metrics = side_metrics(key, tmp_path)  # no 诗 train split is needed for a sheet of 词
    a, real = metrics["a"], metrics[REAL]
    assert (a["format_accuracy"], a["tone_accuracy"], a["rhyme_accuracy"]) == (1.0, 0.5, 0.5)
    assert (real["format_accuracy"], real["tone_accuracy"], real["rhyme_accuracy"]) == (0.5, 0.5, 0.5)
    assert a["copy_rate"] == 1 / 12 and real["copy_rate"] == 1 / 8  # segments copied from ci_train
    assert not {"rhyme_dominant_reading_share", "rhyme_common_reading_share"} & set(a)
    shi = {"item": 5, "side": "a", "form": "七绝", "lines": [made_up(k) for k in range(4)], "topic": "秋思", "seed": 5}
    mixed = side_metrics({**key, "items": [*items, shi]}, tmp_path)
    assert set(mixed) == {"a·诗", "a·词", "real·词"} and mixed["a·诗"]["poems"] == 1
    assert json.dumps(mixed["a·词"]) == json.dumps(a)  # the same numbers (NaN included) beside a 诗
    assert "rhyme_dominant_reading_share" in mixed["a·诗"]


def test_cli_writes_and_scores(tiny_model_dir: Path, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet"
    topics = tmp_path / "topics.txt"
    topics.write_text("# one\n秋月\n")
    runner = CliRunner()
    done = runner.invoke(app, ["eval", "--sheet", str(out), "--model", str(tiny_model_dir), "--candidates", "1",
                               "--topics", str(topics), "--forms", "七绝", "--controls", "2", "--seed", "4",
                               "--data", str(corpus)], env={"POETCORE_DEVICE": "cpu"})
    assert done.exit_code == 0, done.output
    key = json.loads((out / KEY_FILE).read_text(encoding="utf-8"))
    assert [i["side"] for i in key["items"]].count(REAL) == 2 and len(key["items"]) == 3 and key["seed"] == 4
    assert "seed 4" in done.output and (out / SHEET_FILE).exists()
    missing = runner.invoke(app, ["eval", "--score-sheet", str(out), "--data", str(corpus)])
    assert missing.exit_code == 2 and "answers-" in missing.output
    _answers(out, "r1", {i["item"]: (3, H) for i in key["items"]})
    scored = runner.invoke(app, ["eval", "--score-sheet", str(out), "--data", str(corpus)])
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.stdout)
    assert result["sides"]["a"]["taken_for_human"] == 1.0 and result["sides"][REAL]["detection_accuracy"] == 1.0
    table = runner.invoke(app, ["eval", "--score-sheet", str(out), "--data", str(corpus), "--markdown"])
    assert table.exit_code == 0 and table.stdout.startswith("| | a (1) | real (2) |")
    (out / "answers-r2.json").write_text(json.dumps({"1": {"score": 0, "guess": "human"}}))
    invalid = runner.invoke(app, ["eval", "--score-sheet", str(out), "--data", str(corpus)])
    assert invalid.exit_code == 2 and "answers-r2.json, item 1" in invalid.output


def test_cli_sheet_of_the_shipped_model_alone(corpus: Path, loads: Callable[[], int], tmp_path: Path) -> None:
    topics = tmp_path / "topics.txt"
    topics.write_text("秋月\n春雨\n")
    done = CliRunner().invoke(app, ["eval", "--sheet", str(tmp_path / "s"), "--topics", str(topics), "--data",
                                    str(corpus)])  # no --model, no --against, no --seed
    assert done.exit_code == 0, done.output
    key = json.loads((tmp_path / "s" / KEY_FILE).read_text(encoding="utf-8"))
    assert loads() == 1 and key["sides"]["a"] == "<shipped>" and isinstance(key["seed"], int)
    assert key["forms"] == ["七绝", "五律"] and [i["side"] for i in key["items"]].count(REAL) == 4


def test_cli_refuses_sheets_it_cannot_build(tiny_model_dir: Path, other_model: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    no_corpus = runner.invoke(app, ["eval", "--sheet", str(tmp_path / "s"), "--model", str(tiny_model_dir),
                                    "--data", str(tmp_path / "nowhere")])
    assert no_corpus.exit_code == 2 and "poetcore data prepare" in no_corpus.output
    same = runner.invoke(app, ["eval", "--sheet", str(tmp_path / "s"), "--model", str(other_model), "--against",
                               str(other_model)])
    assert same.exit_code == 2 and "same directory" in same.output
    nothing = runner.invoke(app, ["eval", "--score-sheet", str(tmp_path / "empty")])
    assert nothing.exit_code == 2 and "key.json" in nothing.output


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("other-model")  # only its path is compared; never loaded
