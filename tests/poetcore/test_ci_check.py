"""Checking 词 against the corpus-derived 词谱: famous 词 pass, broken copies fail at that spot."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.errors import PoetcoreInputError
from poetcore.prosody.checker import CheckReport
from poetcore.prosody.ci_check import STRICT, CiReport, check_ci, check_text, detect_cipai, split_title

SHUIDIAO = ("明月几时有？把酒问青天。不知天上宫阙，今夕是何年。我欲乘风归去，又恐琼楼玉宇，高处不胜寒。"
            "起舞弄清影，何似在人间。转朱阁，低绮户，照无眠。不应有恨，何事长向别时圆？人有悲欢离合，"
            "月有阴晴圆缺，此事古难全。但愿人长久，千里共婵娟。")
RUMENG = "昨夜雨疏风骤，浓睡不消残酒。试问卷帘人，却道海棠依旧。知否，知否？应是绿肥红瘦。"
QINGYU = ("东风夜放花千树，更吹落、星如雨。宝马雕车香满路。凤箫声动，玉壶光转，一夜鱼龙舞。"
          "蛾儿雪柳黄金缕，笑语盈盈暗香去。众里寻他千百度，蓦然回首，那人却在，灯火阑珊处。")
MANJIANG = ("怒发冲冠，凭栏处、潇潇雨歇。抬望眼、仰天长啸，壮怀激烈。三十功名尘与土，八千里路云和月。"
            "莫等闲、白了少年头，空悲切。靖康耻，犹未雪。臣子恨，何时灭。驾长车，踏破贺兰山缺。"
            "壮志饥餐胡虏肉，笑谈渴饮匈奴血。待从头、收拾旧山河，朝天阙。")


@pytest.mark.parametrize(("text", "cipai"), [(SHUIDIAO, "水调歌头"), (RUMENG, "如梦令"), (QINGYU, "青玉案"),
                                             (MANJIANG, "满江红")])
def test_famous_ci_pass_and_are_recognised_by_shape_alone(text: str, cipai: str) -> None:
    report = check_ci(text)
    assert report.cipai == cipai and report.ok, report.violations
    found = detect_cipai(text)
    assert found is not None and found[0].cipai == cipai


def test_manjianghong_rhymes_in_the_entering_tone_and_names_its_ao() -> None:
    report = check_ci(MANJIANG)
    assert report.rhyme_bu == 18  # 歇 烈 月 切 雪 灭 缺 血 阙: 第十八部, 入声
    assert any(v["line"] == 12 and v["position"] == 1 and v["level"] == "拗" for v in report.tolerated)  # 犹未雪


def test_a_title_names_the_cipai() -> None:
    report = check_ci("水调歌头·明月几时有\n" + SHUIDIAO)
    assert report.cipai == "水调歌头" and report.ok


def test_one_tone_swapped_fails_at_exactly_that_position() -> None:
    report = check_ci(RUMENG)
    chart = detect_cipai(RUMENG)
    assert chart is not None
    shape = chart[0].shapes[chart[1]]
    assert shape.agreement[0][1] >= STRICT and shape.chart[0][1] == "仄"  # 夜: a strict 仄
    broken = check_ci(RUMENG.replace("昨夜雨疏", "昨天雨疏"))
    assert [(v["code"], v["line"], v["position"]) for v in broken.violations] == [("tone", 0, 1)]
    assert report.ok


def test_one_rhyme_broken_fails_at_exactly_that_position() -> None:
    broken = check_ci(RUMENG.replace("海棠依旧", "海棠依好"))
    assert [(v["code"], v["line"], v["position"]) for v in broken.violations] == [("rhyme", 3, 5)]


def test_a_shape_no_chart_fits_is_a_clear_error() -> None:
    with pytest.raises(PoetcoreInputError, match="认不出词牌"):
        check_ci("一二三四五六七八九十，甲乙丙丁。")


def test_check_cli_falls_back_to_ci() -> None:
    result = CliRunner().invoke(app, ["check", RUMENG])
    assert result.exit_code == 0 and "词牌：如梦令" in result.output
    assert CliRunner().invoke(app, ["check", RUMENG.replace("海棠依旧", "海棠依好")]).exit_code == 1


PUSAMAN = "平林漠漠烟如织，寒山一带伤心碧。暝色入高楼，有人楼上愁。玉阶空伫立，宿鸟归飞急。何处是归程？长亭更短亭。"


def test_a_cipai_that_changes_rhyme_is_checked_set_by_set() -> None:
    """菩萨蛮 changes rhyme every couplet (仄 平 仄 平): four rhyme sets, each judged on its own."""
    from poetcore.prosody.cipu import load_cipu

    shape = load_cipu()["菩萨蛮"].shapes[0]
    assert shape.rhyme_sets == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert shape.rhyme_set_tones == ["仄", "平", "仄", "平"]
    report = check_ci(PUSAMAN)  # 李白《菩萨蛮》, found by its shape
    assert report.cipai == "菩萨蛮" and report.ok, report.violations
    broken = check_ci(PUSAMAN.replace("有人楼上愁", "有人楼上看"))
    assert [(v["code"], v["line"]) for v in broken.violations] == [("rhyme", 3)]


XIJIANG = "明月别枝惊鹊，清风半夜鸣蝉。稻花香里说丰年，听取蛙声一片。七八个星天外，两三点雨山前。旧时茅店社林边，路转溪桥忽见。"


def test_rhyme_marks_name_yun_ye_and_the_tone_switch_of_xijiangyue() -> None:
    """辛弃疾《西江月·夜行黄沙道中》: 蝉 年 前 边 平, 片 见 仄, one 部 (第七部): 平仄通叶."""
    report = check_ci(XIJIANG)
    assert report.cipai == "西江月" and report.ok, report.violations
    assert report.rhyme_bu == 7
    assert report.rhyme_marks == ["", "韵", "叶", "叶仄", "", "叶", "叶", "叶仄"]
    changed = check_ci(PUSAMAN)
    assert changed.rhyme_marks == ["韵", "叶", "换平韵", "叶", "换仄韵", "叶", "换平韵", "叶"]
    broken = check_ci(XIJIANG.replace("听取蛙声一片", "听取蛙声一阵"))  # 阵: 仄 but 第六部
    assert [(v["code"], v["line"]) for v in broken.violations] == [("rhyme", 3)]


def test_cipai_cli_prints_yun_and_ye() -> None:
    out = CliRunner().invoke(app, ["cipai", "西江月"]).output
    assert "中仄中平中仄。（叶仄）" in out and "中平中仄平平。（韵）" in out


_VERDICTS = """
import gzip, json
from poetcore.prosody.checker import check
from poetcore.prosody.ci_check import check_ci
from poetcore.errors import PoetcoreInputError
out = []
for split in ("train", "valid", "test"):
    for line in gzip.open(f"tests/fixtures/corpus/ci_{split}.jsonl.gz", "rt", encoding="utf-8"):
        row = json.loads(line)
        try:
            out.append(repr(check_ci("".join(s + m for s, m in zip(row["lines"], row["marks"])))))
        except PoetcoreInputError as exc:
            out.append(exc.code)
    for line in gzip.open(f"tests/fixtures/corpus/{split}.jsonl.gz", "rt", encoding="utf-8"):
        out.append(repr(check("，".join(json.loads(line)["lines"]))))
print(json.dumps(out, ensure_ascii=False))
"""


def test_verdicts_do_not_depend_on_the_process_hash_seed() -> None:
    """Two bot processes must answer one /check alike: a tie between rhyme classes once followed the
    iteration order of a set of strings, which Python salts per process (PYTHONHASHSEED)."""
    import os
    import subprocess
    import sys

    from support.workers import REPO_DIR

    runs = [subprocess.run([sys.executable, "-c", _VERDICTS], cwd=REPO_DIR, capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout for seed in ("1", "3")]
    assert len(runs[0]) > 1000 and runs[0] == runs[1]


SHENGSHENG = ("寻寻觅觅，冷冷清清，凄凄惨惨戚戚。乍暖还寒时候，最难将息。三杯两盏淡酒，怎敌他、晚来风急！雁过也，"
              "正伤心，却是旧时相识。满地黄花堆积，憔悴损，如今有谁堪摘？守着窗儿，独自怎生得黑！梧桐更兼细雨，"
              "到黄昏、点点滴滴。这次第，怎一个愁字了得！")


@pytest.mark.parametrize(
    "titled",
    ["水调歌头 " + SHUIDIAO, "水调歌头\u3000" + SHUIDIAO, "《水调歌头》" + SHUIDIAO, "《水调歌头·明月几时有》" + SHUIDIAO,
     "水调歌头·明月几时有\n" + SHUIDIAO, "水调歌头·明月几时有 " + SHUIDIAO],
    ids=["space", "full-width-space", "book-title", "book-title-first-line", "first-line", "first-line-space"],
)
def test_a_titled_ci_is_checked_as_its_cipai(titled: str) -> None:
    report = check_text(titled)
    assert isinstance(report, CiReport) and report.cipai == "水调歌头" and report.ok, report
    assert "".join(report.lines).startswith("明月几时有把酒问青天")  # the title is not part of the text
    assert split_title(titled)[0] in ("水调歌头", "水调歌头·明月几时有")


def test_title_aliases_name_the_charted_cipai() -> None:
    yi = check_text("忆江南 江南好，风景旧曾谙。日出江花红胜火，春来江水绿如蓝。能不忆江南？")
    assert isinstance(yi, CiReport) and yi.cipai == "望江南忆江南" and yi.ok
    mulan = check_text("木兰花 绿杨芳草长亭路，年少抛人容易去。楼头残梦五更钟，花底离愁三月雨。"
                       "无情不似多情苦，一寸还成千万缕。天涯地角有穷时，只有相思无尽处。")  # 晏殊: 木兰花 = 玉楼春
    assert isinstance(mulan, CiReport) and mulan.cipai == "玉楼春" and mulan.ok
    assert split_title("秋风 吹面") == (None, "秋风 吹面")  # a word before a space is no title unless a 词牌
    with pytest.raises(PoetcoreInputError, match="不合木兰花慢的词谱"):  # 木兰花慢 is its own 词牌, not 木兰花
        check_text("木兰花慢 绿杨芳草长亭路，年少抛人容易去。楼头残梦五更钟，花底离愁三月雨。"
                   "无情不似多情苦，一寸还成千万缕。天涯地角有穷时，只有相思无尽处。")  # not read as a 七律 either


def test_a_named_cipai_needs_only_its_character_count() -> None:
    """Editions punctuate differently: a 水调歌头 typed in 9 pieces is still read against its chart."""
    pieces = "，".join(SHUIDIAO.replace("？", "").replace("。", "").replace("，", "")[i:i + 11] for i in range(0, 95, 11))
    assert check_ci(pieces, cipai="水调歌头").ok
    with pytest.raises(PoetcoreInputError, match="认不出词牌"):
        check_ci(pieces)  # unnamed, 9 pieces share too few breaks with any chart


def test_shengshengman_is_named_and_said_to_have_no_chart() -> None:
    for titled in ("声声慢 " + SHENGSHENG, "《声声慢·寻寻觅觅》" + SHENGSHENG, "声声慢\n" + SHENGSHENG):
        with pytest.raises(PoetcoreInputError) as err:
            check_text(titled)
        assert err.value.code == "ci_uncharted"
        assert "词牌“声声慢”" in err.value.message_zh and "最常见的 50 个词牌" in err.value.message_zh
        assert "声声慢 is not among them" in err.value.message_en
    with pytest.raises(PoetcoreInputError) as untitled:
        check_text(SHENGSHENG)
    assert "也不是已统计的 50 个词牌之一" in untitled.value.message_zh


def test_a_titled_ci_that_fits_no_shape_of_its_cipai_says_how_it_differs() -> None:
    with pytest.raises(PoetcoreInputError) as err:
        check_text("水调歌头 " + SHUIDIAO.removesuffix("但愿人长久，千里共婵娟。"))
    assert err.value.code == "ci_shape_mismatch"
    assert "正体19句95字" in err.value.message_zh and "这首共17句85字，比正体少 10 字" in err.value.message_zh


def test_the_shape_error_says_ci_are_read_too() -> None:
    with pytest.raises(PoetcoreInputError) as err:
        check_text("一二三四五六七八九十，甲乙丙丁。")
    assert err.value.code == "unknown_shape"
    assert "无法识别体裁" in err.value.message_zh and "也不是已统计的 50 个词牌之一" in err.value.message_zh
    assert "水调歌头 明月几时有" in err.value.message_zh and "put its 词牌 first" in err.value.message_en
    with pytest.raises(PoetcoreInputError) as latin:
        check_text("hello world")
    assert latin.value.code == "poem_shape" and "词牌" not in latin.value.message_zh  # not a shape problem


def test_check_text_reads_shi_gu_jue_named_forms_and_titled_shi() -> None:
    assert isinstance(check_text(RUMENG), CiReport)
    chunxiao = check_text("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。")
    assert isinstance(chunxiao, CheckReport) and chunxiao.form_label == "古绝"
    named = check_text("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。", "五绝")
    assert isinstance(named, CheckReport) and named.form_label == "五绝" and not named.ok
    forced = check_text(SHUIDIAO, "水调歌头")
    assert isinstance(forced, CiReport) and forced.cipai == "水调歌头"
    # 刘禹锡's 浪淘沙 is a 七绝 under a 词牌 title: read as the poem it is.
    langtaosha = check_text("浪淘沙\n九曲黄河万里沙，浪淘风簸自天涯。如今直上银河去，同到牵牛织女家。")
    assert isinstance(langtaosha, CheckReport) and langtaosha.form == "七绝"
    titled = check_text("《静夜思》床前明月光，疑是地上霜。举头望明月，低头思故乡。")
    assert isinstance(titled, CheckReport) and titled.form_label == "古绝" and titled.lines[0] == "床前明月光"
