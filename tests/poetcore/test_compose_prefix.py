"""续写: the composer keeps the user's leading lines verbatim and finishes the poem under the form.

Property test: random prefixes of real regulated poems (the shipped fixture corpus) come back
unchanged at the top of a poem that passes `poetcore check`. The tiny random model is enough: the
constraints, not the model, guarantee the form.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from poetcore.compose import Composer
from poetcore.decoding.spec import PoemSpec, feasible_variants, prefix_misfits
from poetcore.errors import PoetcoreInputError
from poetcore.prosody.checker import check
from poetcore.prosody.forms import couplet_for, get_form
from poetcore.prosody.rhymes import RhymeTable
from poetcore.request import ComposeRequest, validate_prefix

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "train.jsonl.gz"


def regular_poems() -> list[dict]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if check("，".join(r["lines"]), r["form"]).ok]


def test_random_prefixes_of_real_poems_are_kept_and_the_poem_is_regular(composer: Composer) -> None:
    rng = random.Random(7)
    poems = regular_poems()
    assert len(poems) > 50
    cases = rng.sample(poems, 24)
    served = 0
    for row in cases:
        form = get_form(row["form"])
        k = rng.randint(1, form.n_lines - 1)
        prefix = row["lines"][:k]
        if any(ch not in composer.masks.id_of for ch in "".join(prefix)):
            continue  # the tiny model's vocabulary lacks a character: nothing to test here
        [poem] = composer.compose_batch([ComposeRequest("", row["form"], prefix=prefix, n=2, seed=rng.randrange(99))])
        assert not isinstance(poem, Exception), (prefix, poem)
        assert poem.lines[:k] == prefix, (prefix, poem.lines)
        assert len(poem.lines) == form.n_lines
        report = check(poem.text, form=row["form"])
        assert report.ok, (prefix, poem.lines, [v.message for v in report.violations])
        served += 1
    assert served >= 12, served


def test_line_two_fixes_the_rhyme_group(composer: Composer) -> None:
    [poem] = composer.compose_batch([ComposeRequest("", "五绝", prefix="白日依山尽，黄河入海流", n=2, seed=1)])
    assert not isinstance(poem, Exception)
    table = RhymeTable.default()
    assert poem.lines[:2] == ["白日依山尽", "黄河入海流"]
    assert table.rhymes(poem.lines[1][-1], poem.lines[3][-1]) and "尤" in poem.rhyme_group


def test_a_prefix_that_breaks_the_chart_is_still_continued_with_the_closest_variant(composer: Composer) -> None:
    spec = PoemSpec(get_form("五绝"), prefix=("平平平平平",))
    table = RhymeTable.default()
    best = feasible_variants(spec, table)
    assert best and all(prefix_misfits(spec, table, v) > 0 for v in best)  # nothing fits it cleanly
    [poem] = composer.compose_batch([ComposeRequest("", "五绝", prefix="平平平平平", n=2, seed=2)])
    assert not isinstance(poem, Exception) and poem.lines[0] == "平平平平平"
    faults = [v for v in check(poem.text, form="五绝").violations]
    assert faults and all(v.line == 0 for v in faults)  # only the user's own line is at fault


@pytest.mark.parametrize(("prefix", "form", "code"), [
    ("白日依山", "五绝", "prefix_length"),
    ("白日依山尽，黄河入海流，欲穷千里目，更上一层楼", "五绝", "prefix_too_long"),
    ("，。", "五绝", "prefix_empty"),
])
def test_bad_prefixes_say_what_is_wrong(prefix: str, form: str, code: str) -> None:
    with pytest.raises(PoetcoreInputError) as info:
        validate_prefix(prefix, get_form(form))
    assert info.value.code == code and info.value.message_zh and info.value.message_en


def test_traditional_prefix_is_simplified() -> None:
    assert validate_prefix("舉頭望明月", get_form("五绝")) == ("举头望明月",)


@pytest.mark.parametrize("line", ["白日依山尽", "春风又绿江南岸", "床前明月光"])
def test_a_couplet_job_writes_only_the_matching_line(composer: Composer, line: str) -> None:
    """/dui: the user's 出句 and one 对句 under the first couplet of the 绝句 chart, nothing more."""
    form = couplet_for(len(line))
    [poem] = composer.compose_batch([ComposeRequest("", form=form.name, prefix=[line], seed=5)])
    assert not isinstance(poem, PoetcoreInputError), poem
    assert poem.form == form.name and poem.lines[0] == line and len(poem.lines) == 2
    assert len(poem.lines[1]) == len(line)
    report = check(poem.text, form.name)
    assert report.ok, report.violations
    assert poem.rhyme_group  # line 2 rhymes


def test_couplet_forms_are_the_opening_of_their_quatrain() -> None:
    for jue, couplet in (("五绝", "五言联"), ("七绝", "七言联")):
        assert get_form(couplet).prompt_form == jue and get_form(jue).prompt_form == jue
        assert [v.lines for v in get_form(couplet).variants] == [v.lines[:2] for v in get_form(jue).variants]
        assert all(1 in v.rhyme_lines for v in get_form(couplet).variants)
    assert couplet_for(7).name == "七言联"
    with pytest.raises(PoetcoreInputError) as info:
        couplet_for(6)
    assert "5 or 7" in info.value.message_en and "五言或七言" in info.value.message_zh


def test_prefix_faults_are_the_users_lines_only(composer: Composer) -> None:
    """The user's own line breaks the chart: the poem keeps it and says where, and only there."""
    [poem] = composer.compose_batch([ComposeRequest("", form="五绝", prefix=["平平平平平"], seed=1)])
    assert not isinstance(poem, PoetcoreInputError)
    faults = poem.prefix_faults(1)
    assert faults and faults == check(poem.text, "五绝").violations
    assert poem.prefix_faults(0) == []
