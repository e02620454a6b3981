from itertools import product

import pytest

from poetcore.errors import UnknownFormError
from poetcore.prosody.forms import (
    ANY,
    FORMS,
    FormTemplate,
    FormVariant,
    allowed_tones,
    expected_relations,
    get_form,
    is_gu_ping,
    line_violations,
)
from poetcore.prosody.rhymes import Tone

P, Z = frozenset({Tone.PING}), frozenset({Tone.ZE})
BOTH = P | Z


def tones(s: str) -> tuple[frozenset[Tone], ...]:
    return tuple({"平": P, "仄": Z, "~": BOTH, "?": frozenset()}[c] for c in s)


def test_four_forms_with_four_variants_each() -> None:
    assert list(FORMS) == ["五绝", "七绝", "五律", "七律"]
    shapes = {name: (f.n_lines, f.line_length) for name, f in FORMS.items()}
    assert shapes == {"五绝": (4, 5), "七绝": (4, 7), "五律": (8, 5), "七律": (8, 7)}
    for form in FORMS.values():
        names = {v.name for v in form.variants}
        assert names == {f"{a}首句{b}" for a in ("平起", "仄起") for b in ("入韵", "不入韵")}


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_charts_obey_the_classical_invariants(form: FormTemplate) -> None:
    for v in form.variants:
        # 对 inside a couplet, 粘 across couplets: derived from the data, not asserted by it.
        assert expected_relations(v) == tuple("对" if i % 2 == 0 else "粘" for i in range(form.n_lines - 1))
        # 二四六分明 and the last character never change; only odd positions may be 中.
        for line in v.lines:
            assert all(line[i] != ANY for i in range(1, len(line), 2)), line
            assert line[-1] != ANY
        # Lines ending 平 are exactly the rhyme lines; 平起/仄起 names the 2nd char of line 0.
        assert tuple(i for i, line in enumerate(v.lines) if line[-1] == "平") == v.rhyme_lines
        assert v.name.startswith(v.lines[0][1] + "起")
        assert v.first_line_rhymes == v.name.endswith("首句入韵")


def test_lv_repeats_the_jue_chart_under_nian() -> None:
    for short, long in (("五绝", "五律"), ("七绝", "七律")):
        for v in FORMS[short].variants:
            lv = FORMS[long].variant(v.name)
            assert lv.lines[:4] == v.lines
            assert lv.rhyme_lines == (*v.rhyme_lines, 5, 7)


def test_get_form_by_alias_and_unknown_lists_supported() -> None:
    assert get_form("七言律诗") is FORMS["七律"]
    assert get_form(" qijue ") is FORMS["七绝"]
    assert get_form("五言絕句") is FORMS["五绝"]  # traditional spelling
    with pytest.raises(UnknownFormError) as err:
        get_form("十四行诗")
    assert "五绝、七绝、五律、七律" in err.value.message_zh
    assert err.value.code == "unknown_form"


def test_mixed_length_forms_are_expressible() -> None:
    ci = FormTemplate(
        "小令", (FormVariant("正体", ("中仄平", "中平仄", "中仄中平中仄平"), (0, 2)),), rules=frozenset()
    )
    assert ci.line_lengths == (3, 3, 7)
    assert ci.n_lines == 3
    with pytest.raises(ValueError, match="mixed line lengths"):
        _ = ci.line_length
    with pytest.raises(ValueError, match="bad pattern"):
        FormVariant("x", ("平平x",), ())
    with pytest.raises(ValueError, match="rhyme line 3"):
        FormVariant("x", ("平平仄",), (3,))


def test_gu_ping_five_and_seven() -> None:
    b5, b7 = "中平中仄平", "中仄中平中仄平"
    assert [i.code for i in line_violations(tones("仄平仄仄平"), b5)] == ["gu_ping"]
    assert line_violations(tones("仄平平仄平"), b5) == []  # 自救: 3rd char 平
    assert line_violations(tones("平平平仄平"), b5) == []
    assert [i.code for i in line_violations(tones("仄仄仄平仄仄平"), b7)] == ["gu_ping"]
    assert line_violations(tones("平仄仄平平仄平"), b7) == []
    # The 七言 1st char is outside the core and never decides 孤平.
    assert line_violations(tones("平仄仄平仄仄平"), b7)[0].code == "gu_ping"
    # A polyphonic character could be read 平, so 孤平 is not certain.
    assert not is_gu_ping(tones("~平仄仄平"), b5)
    # D lines (仄仄仄平平) are 平收 but not 孤平.
    assert line_violations(tones("仄仄仄平平"), "中仄仄平平") == []


def test_san_ping_wei_and_san_ze_wei() -> None:
    codes = [(i.code, i.position) for i in line_violations(tones("仄仄平平平"), "中仄仄平平")]
    assert codes == [("tone", 2), ("san_ping_wei", None)]
    codes = [(i.code, i.position) for i in line_violations(tones("平平仄仄仄"), "中平平仄仄")]
    assert codes == [("tone", 2), ("san_ze_wei", None)]
    assert line_violations(tones("仄仄~平平"), "中仄仄平平") == []
    assert line_violations(tones("仄仄?平平"), "中仄仄平平") == []


def test_allowed_tones_folds_the_cross_position_rules() -> None:
    b5 = "中平中仄平"
    assert allowed_tones(b5, ()) == BOTH
    assert allowed_tones(b5, (Z, P)) == P  # 1st 仄: the 3rd must rescue
    assert allowed_tones(b5, (P, P)) == BOTH
    assert allowed_tones(b5, (Z,)) == P
    assert allowed_tones("中仄仄平平", (P, Z)) == Z
    assert allowed_tones(b5, (Z, Z)) == frozenset()  # prefix already broke the chart
    with pytest.raises(ValueError, match="already fills"):
        allowed_tones(b5, tones("平平平仄平"))


@pytest.mark.parametrize("pattern", ["中平中仄平", "中仄中平中仄平", "中仄仄平平", "中平中仄平平仄"])
def test_allowed_tones_matches_brute_force(pattern: str) -> None:
    n = len(pattern)
    legal = {seq for seq in product("平仄", repeat=n) if not line_violations(tones("".join(seq)), pattern)}
    for k in range(n):
        for prefix in product("平仄", repeat=k):
            want = {Tone(seq[k]) for seq in legal if seq[:k] == prefix}
            assert allowed_tones(pattern, tones("".join(prefix))) == want, (pattern, prefix)
