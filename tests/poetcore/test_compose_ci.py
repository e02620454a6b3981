"""Composing 词 from their charts, and 仄韵 绝句: the constraints, on the tiny random model.

Every charted 词牌 must come out passing our own `/check` against its chart (tones, rhymes, shape),
whatever the weights say; the 叠句 are copies, each 换韵 set keeps its own 部, a chosen 部 holds.
"""

from __future__ import annotations

import pytest

from poetcore.compose import Composer
from poetcore.errors import PoetcoreInputError
from poetcore.prosody.ci_check import check_ci
from poetcore.prosody.cilin import CilinTable
from poetcore.prosody.cipu import ci_form, find_cipai, load_cipu
from poetcore.prosody.forms import get_form
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.request import ComposeRequest
from poetcore.text.chars import to_simplified

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CHARTED = [name for name, chart in load_cipu().items() if chart.shapes]
TABLE = RhymeTable.default()
CILIN = CilinTable.default()


def compose(composer: Composer, **kw: object):
    result = composer.compose_batch([ComposeRequest(**{"topic": "秋思", "n": 2, "seed": 1, **kw})])[0]  # type: ignore[arg-type]
    if isinstance(result, Exception):
        raise result
    return result


def test_there_are_charted_cipai_to_write() -> None:
    assert len(CHARTED) >= 45 and {"浣溪沙", "水调歌头", "如梦令", "菩萨蛮", "西江月"} <= set(CHARTED)


@pytest.mark.parametrize("cipai", CHARTED)
@pytest.mark.parametrize(("seed", "n"), [(1, 2), (2, 1)], ids=["beams", "sampled"])
def test_every_charted_cipai_composes_a_ci_that_passes_its_chart(composer: Composer, cipai: str, seed: int,
                                                                 n: int) -> None:
    form = ci_form(load_cipu()[cipai])
    poem = compose(composer, form=form.name, seed=seed, n=n)
    assert poem.kind == "词" and poem.form == form.name
    assert [len(line) for line in poem.lines] == list(form.line_lengths)
    assert poem.marks == form.variants[0].punctuation
    assert poem.text == "".join(line + mark for line, mark in zip(poem.lines, poem.marks, strict=True))
    report = poem.check()
    assert report.ok, (poem.text, report.violations)
    assert report.cipai == cipai and report.shape == "正体"
    # Independently of the checker: every rhyme set shares one 词林正韵 部, in the set's tone.
    for group in form.variants[0].rhyme_groups:
        ends = [poem.lines[i][-1] for i in group.lines]
        shared = set.intersection(*(set(CILIN.bu_of(ch).values()) for ch in ends))
        assert shared, (cipai, group, ends)
        assert all(bu >= 15 for bu in shared) == (group.tone == "入"), (cipai, group.tone, ends, shared)
    assert poem.rhyme_group.count("部") == len(form.variants[0].rhyme_groups)


def test_dieju_repeat_the_line_they_echo(composer: Composer) -> None:
    ru_meng = compose(composer, form="如梦令", seed=3)
    assert ru_meng.lines[5] == ru_meng.lines[4] and len(ru_meng.lines[4]) == 2  # 争渡，争渡
    qin_e = compose(composer, form="忆秦娥", seed=3)
    assert qin_e.lines[2] == qin_e.lines[1][-3:] and qin_e.lines[7] == qin_e.lines[6][-3:]  # 秦楼月


def test_huan_yun_sets_each_keep_their_own_bu(composer: Composer) -> None:
    poem = compose(composer, form="菩萨蛮", seed=4)
    sets = get_form("菩萨蛮").variants[0].rhyme_groups
    assert [s.tone for s in sets] == ["仄", "平", "仄", "平"]
    for group in sets:
        a, b = (poem.lines[i][-1] for i in group.lines)
        tones = [t for t in (TABLE.tones(a), TABLE.tones(b))]
        assert CILIN.rhymes(a, b)
        want = Tone.PING if group.tone == "平" else Tone.ZE
        assert all(want in t for t in tones), (a, b, group.tone)


@pytest.mark.parametrize(("rhyme", "bu"), [("7", 7), ("部12", 12), ("第一部", 1), ("东", 1), ("山", 7)])
def test_a_chosen_bu_holds(composer: Composer, rhyme: str, bu: int) -> None:
    poem = compose(composer, form="浣溪沙", rhyme=rhyme, seed=5)
    report = check_ci(f"浣溪沙\n{poem.text}")
    assert report.ok and report.rhyme_bu == bu
    assert poem.rhyme_group.startswith(("第一部", "第七部", "第十二部")[[1, 7, 12].index(bu)])


def test_ru_sheng_cipai_take_a_ru_sheng_bu(composer: Composer) -> None:
    poem = compose(composer, form="满江红", rhyme="18", seed=6)
    assert check_ci(f"满江红\n{poem.text}").rhyme_bu == 18


def test_aliases_and_other_shapes_resolve(composer: Composer) -> None:
    assert find_cipai("忆江南") == find_cipai("望江南") == (load_cipu()["望江南忆江南"], 0)
    assert get_form("木兰花").name == "玉楼春" and get_form("一斛珠").name == "醉落魄"
    poem = compose(composer, form="忆江南", seed=7)
    assert poem.form == "忆江南" and poem.check().ok
    other = compose(composer, form="水调歌头·又一体1", seed=7)
    assert other.form == "水调歌头·又一体1"
    assert [len(x) for x in other.lines] == load_cipu()["水调歌头"].shapes[1].lengths


def test_heads_topic_and_traditional(composer: Composer) -> None:
    poem = compose(composer, form="浣溪沙", heads="春夏秋冬风月", seed=8)
    assert [line[0] for line in poem.lines] == list("春夏秋冬风月") and poem.check().ok
    trad = compose(composer, form="浣溪沙", topic="秋思", traditional=True, seed=8)
    assert trad.traditional and check_ci("浣溪沙\n" + to_simplified(trad.text)).ok
    plain = compose(composer, form="长相思", topic="", seed=8)
    assert plain.topic == "长相思" and plain.title == "长相思"  # the tune's own theme


@pytest.mark.parametrize(
    ("kw", "code"),
    [({"form": "浣溪沙", "prefix": "秋思无边雁又还"}, "ci_prefix"),
     ({"form": "如梦令", "heads": "一二三四五六七"}, "ci_heads_echo"),
     ({"form": "浣沙溪"}, "unknown_cipai")],
)
def test_what_a_ci_cannot_take_is_refused(composer: Composer, kw: dict, code: str) -> None:
    with pytest.raises(PoetcoreInputError) as err:
        compose(composer, **kw)
    assert err.value.code == code and err.value.message_en


# -- 仄韵 绝句 ----------------------------------------------------------------------------------


def ze_groups(ch: str) -> set[str]:
    return {g for g in TABLE.groups(ch) if TABLE.group(g).tone is Tone.ZE}


@pytest.mark.parametrize(
    ("prefix", "given"),
    [
        ("春眠不觉晓，处处闻啼鸟", 2),  # 孟浩然 春晓: 上声筿
        ("千山鸟飞绝", 1),  # 柳宗元 江雪: no 律句, ends in 入声屑
        ("空山不见人，但闻人语响", 2),  # 王维 鹿柴: 上声养
        ("松下问童子，言师采药去", 2),  # 贾岛 寻隐者不遇: 去声御
        ("独坐幽篁里，弹琴复长啸", 2),  # 王维 竹里馆: 去声啸
    ],
)
def test_ze_rhyme_lines_are_continued_in_their_group(composer: Composer, prefix: str, given: int) -> None:
    poem = compose(composer, topic="", form="五绝", prefix=prefix, seed=9)
    assert poem.form == "五绝仄韵"
    lines = prefix.split("，")
    assert poem.lines[:given] == lines
    rhyme_end = lines[1][-1] if given == 2 else lines[0][-1]
    for i in (1, 3):
        assert ze_groups(poem.lines[i][-1]) & ze_groups(rhyme_end), (poem.lines, rhyme_end)
        assert TABLE.tones(poem.lines[i][-1]) == {Tone.ZE} or i < given
    assert Tone.PING in TABLE.tones(poem.lines[2][-1])  # the unrhymed third line ends 平


def test_ping_rhyme_lines_stay_ping(composer: Composer) -> None:
    poem = compose(composer, topic="", form="五绝", prefix="白日依山尽", seed=9)
    assert poem.form == "五绝" and all(Tone.PING in TABLE.tones(poem.lines[i][-1]) for i in (1, 3))


@pytest.mark.parametrize(("form", "rhyme", "want"), [("七绝", "鸟", "上声十七筿"), ("五绝", "屑", "入声九屑"),
                                                     ("七绝仄韵", None, None)])
def test_ze_rhyme_on_purpose(composer: Composer, form: str, rhyme: str | None, want: str | None) -> None:
    poem = compose(composer, topic="雪夜", form=form, rhyme=rhyme, seed=10)
    assert poem.form.endswith("仄韵")
    groups = [ze_groups(poem.lines[i][-1]) for i in (1, 3)]
    shared = set.intersection(*groups)
    assert shared and (want is None or want in shared), (poem.lines, want)
    assert poem.rhyme_group.endswith(TABLE.group_label(sorted(shared)[0])) or want is None
