"""Each cleaning rule alone, then `clean_poems` on a synthetic package."""

from __future__ import annotations

import pytest
from synthetic_package import CHUSAI, DENGGAO, JINGYESI, JINGYESI_STRAINS, SHANJU, sample_package

from poetcore.data.clean import (
    STEPS,
    align_strains,
    classify_form,
    clean_poems,
    clean_title,
    has_note,
    has_placeholder,
    is_empty,
    split_lines,
    to_simplified,
)
from poetcore.data.package import RawPoem, RawSource
from poetcore.text.variants import VARIANTS, normalize_variants


def test_split_lines_on_every_line_break_and_drops_spaces() -> None:
    assert split_lines(["床前明月光，疑是地上霜。", "舉頭望明月！低頭思故鄉；", "a b?c"]) == [
        "床前明月光",
        "疑是地上霜",
        "舉頭望明月",
        "低頭思故鄉",
        "ab",
        "c",
    ]
    assert split_lines(["第一句\n第二句"]) == ["第一句", "第二句"]


@pytest.mark.parametrize(
    ("paragraphs", "form"),
    [(JINGYESI, "五绝"), (CHUSAI, "七绝"), (SHANJU, "五律"), (DENGGAO, "七律")],
)
def test_classify_form_recognises_the_four_forms(paragraphs: list[str], form: str) -> None:
    assert classify_form(split_lines(paragraphs)) == form


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["床前明月光", "疑是地上霜"],  # 2 lines
        ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡", "床前明月光", "疑是地上霜"],  # 6 lines
        ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡啊"],  # unequal lengths
        ["床前明月光", "疑是地上霜", "举头望明月", "低头思故1"],  # non-Han char
        ["床前明月", "疑是地上", "举头望明", "低头思故"],  # 4 chars per line
    ],
)
def test_classify_form_rejects_irregular_shapes(lines: list[str]) -> None:
    assert classify_form(lines) is None


def test_placeholder_notes_and_empty_detection() -> None:
    assert has_placeholder("春眠不覺□")
    assert not has_placeholder("春眠不覺曉")
    for note in (
        "闌風長雨（一作「東風細雨」）",
        "穿耳胡僧笑點頭。（〖1〗這首詩",
        "寧知猗[一]梧鳳",
        "𥳌{𥫗窮}",
    ):
        assert has_note(note), note
    assert not has_note("床前明月光，疑是地上霜。")
    assert is_empty([]) and is_empty(["", "  \u3000"])
    assert not is_empty(["", "春"])


def test_t2s_converts_traditional_and_variant_characters() -> None:
    assert to_simplified("舉頭望明月爲羣顔") == "举头望明月为群颜"
    # Variants OpenCC leaves alone go through the variant table.
    assert to_simplified("鴈疎簷") == "雁疏檐"
    # Phrase-aware: 乾坤 is not 干坤, 头发 vs 发展 both come out right.
    assert to_simplified("乾坤") == "乾坤"
    text = "".join(JINGYESI + CHUSAI + SHANJU + DENGGAO)
    assert len(to_simplified(text)) == len(text)


def test_variant_table_is_one_to_one_and_idempotent() -> None:
    assert all(len(k) == 1 and len(v) == 1 and k != v for k, v in VARIANTS.items())
    assert not set(VARIANTS) & set(VARIANTS.values())
    once = normalize_variants("".join(VARIANTS))
    assert normalize_variants(once) == once


def test_clean_title_drops_bracketed_notes() -> None:
    assert clean_title("送友人（一作送別）") == "送友人"
    assert clean_title("  帝京篇十首　一 ") == "帝京篇十首 一"


def test_align_strains_keeps_only_per_char_matches() -> None:
    lines = split_lines(JINGYESI)
    assert align_strains(JINGYESI_STRAINS, lines) == (
        ["平平平仄平", "平仄仄仄平", "仄平○平仄", "平平○仄平"],
        "aligned",
    )
    assert align_strains(None, lines) == (None, "missing")
    assert align_strains(["平平平仄平，平仄仄仄平。"], lines) == (None, "mismatch")  # too few lines
    assert align_strains(["平平平仄，平仄仄仄平。", JINGYESI_STRAINS[1]], lines) == (
        None,
        "mismatch",
    )  # short line
    assert align_strains(["平平平仄X，平仄仄仄平。", JINGYESI_STRAINS[1]], lines) == (
        None,
        "mismatch",
    )  # bad mark


def _source(pkg: dict) -> RawSource:
    source = RawSource(kind="dir", sha1="x")
    for dynasty in ("tang", "song"):
        for i, d in enumerate(pkg[dynasty]):
            source.poems.append(
                RawPoem(f"{dynasty}-{i}", d["id"], dynasty, d["title"], d["author"], tuple(d["paragraphs"]))
            )
    source.flagged = {d["id"]: d["error_type"] for d in pkg["flagged"]}
    source.strains = {d["id"]: d["strains"] for d in pkg["strains"]}
    return source


def test_clean_poems_counts_every_step_once() -> None:
    source = _source(sample_package())
    poems, report = clean_poems(source)
    assert report.raw == 11
    assert report.removed == {key: 1 for key, _ in STEPS}
    assert report.kept == len(poems) == 5
    steps = report.steps()
    assert [s["step"] for s in steps] == [key for key, _ in STEPS]
    assert steps[-1]["remaining"] == 5
    by_title = {p.title: p for p in poems}
    assert set(by_title) == {"静夜思", "出塞", "山居秋暝", "登高", "送友人"}
    assert by_title["静夜思"].lines == ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]
    assert by_title["静夜思"].strains == ["平平平仄平", "平仄仄仄平", "仄平○平仄", "平平○仄平"]
    assert by_title["出塞"].strains is None  # mismatching strains dropped, poem kept
    assert by_title["送友人"].lines[2] == "此地一为别"  # 爲 -> 为
    assert by_title["登高"].form == "七律" and by_title["登高"].author == "杜甫"
    assert report.strains == {"aligned": 1, "mismatch": 1, "missing": 3}
    assert report.flagged_in_main == 1 and report.flag_types == {"内容太少存疑": 1}
    assert report.t2s["variant_chars_replaced"] == 0 and report.t2s["tokens"] == 20 + 28 + 40 + 56 + 40


def test_duplicates_keep_the_first_occurrence() -> None:
    poems, _ = clean_poems(_source(sample_package()))
    jingyesi = [p for p in poems if p.lines[0] == "床前明月光"]
    assert [p.id for p in jingyesi] == ["tang-0"]  # the Song copy is the duplicate
