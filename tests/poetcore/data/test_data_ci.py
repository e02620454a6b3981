"""The 宋词 training records: segments with their own punctuation, drops with a reason."""

from __future__ import annotations

import pytest

from poetcore.data.ci import clean_ci
from poetcore.model.tokenizer import ci_form, form_token, format_body


def test_segments_keep_their_sentence_marks() -> None:
    record, why = clean_ci("ci-1", "如梦令", "李清照", ["昨夜雨疏风骤，浓睡不消残酒。试问卷帘人，却道海棠依旧。",
                                                   "知否？知否？应是绿肥红瘦。"])
    assert why == "" and record is not None
    assert record["lines"][-3:] == ["知否", "知否", "应是绿肥红瘦"]
    assert record["marks"] == "，。，。。。。"
    assert format_body(record["lines"], record["marks"]).endswith("知否。知否。应是绿肥红瘦。")


@pytest.mark.parametrize(
    ("paragraphs", "reason"),
    [
        (["春□不觉晓，处处闻啼鸟。"], "placeholder"),
        (["春眠abc晓，处处闻啼鸟。"], "non_han"),
        (["春眠不觉晓。"], "too_short"),
        ([], "empty"),
    ],
)
def test_bad_ci_are_dropped_with_a_reason(paragraphs: list[str], reason: str) -> None:
    assert clean_ci("ci-2", "浣溪沙", "佚名", paragraphs) == (None, reason)


def test_a_ci_without_a_cipai_is_dropped() -> None:
    assert clean_ci("ci-3", "", "佚名", ["春眠不觉晓，处处闻啼鸟。"]) == (None, "no_cipai")


def test_the_last_segment_always_ends_a_sentence() -> None:
    record, _ = clean_ci("ci-4", "忆江南", "白居易", ["江南好，风景旧曾谙，日出江花红胜火"])
    assert record is not None and record["marks"] == "，，。"


def test_ci_forms_have_their_own_token() -> None:
    assert form_token(ci_form("浣溪沙")) == "<|词·浣溪沙|>"
    assert form_token("七绝") == "<|七绝|>"
    with pytest.raises(ValueError, match="no form token"):
        form_token("词·")
    with pytest.raises(ValueError, match="marks"):
        format_body(["春眠不觉晓"], "，。")
