"""The index that ships in the package knows the lines people know, with their sources."""

from __future__ import annotations

import random

import pytest

from poetcore.lines import LineIndex, open_line_index
from poetcore.lines.index import PUZZLE_POOLS, builtin_index_path

# Refused as 不在诗库里 by the old built-in index (issue 25).
REFUSED_BEFORE = {
    "霜叶红于二月花": "唐·杜牧《山行》",
    "桃花潭水深千尺": "唐·李白《赠汪伦》",
    "人闲桂花落": "唐·王维《鸟鸣涧》",
    "乱花渐欲迷人眼": "唐·白居易《钱唐湖春行》",
    "黄四娘家花满蹊": "唐·杜甫《江畔独步寻花》",
    "春风又绿江南岸": "宋·王安石《泊船瓜洲》",
    "随风潜入夜": "唐·杜甫《春夜喜雨》",
}

# Lines every school child meets, from 诗经 to 纳兰: line -> author (the source must name them).
SCHOOL = {
    "离离原上草": "白居易", "曲项向天歌": "骆宾王", "锄禾日当午": "李绅", "飞流直下三千尺": "李白",
    "窗含西岭千秋雪": "杜甫", "慈母手中线": "孟郊", "清明时节雨纷纷": "杜牧", "千山鸟飞绝": "柳宗元",
    "松下问童子": "贾岛", "不识庐山真面目": "苏轼", "欲把西湖比西子": "苏轼", "竹外桃花三两枝": "苏轼",
    "接天莲叶无穷碧": "苏轼", "小荷才露尖尖角": "杨万里", "春色满园关不住": "叶绍翁", "王师北定中原日": "陆游",
    "昼出耘田夜绩麻": "范成大", "天门中断楚江开": "李白", "孤帆远影碧空尽": "李白", "黄河远上白云间": "王之涣",
    "秦时明月汉时关": "王昌龄", "劝君更尽一杯酒": "王维", "独在异乡为异客": "王维", "月落乌啼霜满天": "张继",
    "烟笼寒水月笼沙": "杜牧", "君问归期未有期": "李商隐", "国破山河在": "杜甫", "无边落木萧萧下": "杜甫",
    "山重水复疑无路": "陆游", "问渠那得清如许": "朱熹", "儿童急走追黄蝶": "杨万里", "墙角数枝梅": "王安石",
    "爆竹声中一岁除": "王安石", "不畏浮云遮望眼": "王安石", "碧玉妆成一树高": "贺知章", "红豆生南国": "王维",
    "海内存知己": "王勃", "大漠孤烟直": "王维", "海上生明月": "张九龄", "前不见古人": "陈子昂",
    "春江潮水连海平": "张若虚", "天生我材必有用": "李白", "同是天涯沦落人": "白居易", "人生自古谁无死": "文天祥",
    "天街小雨润如酥": "韩愈", "西塞山前白鹭飞": "张志和", "葡萄美酒夜光杯": "王翰", "人面桃花相映红": "崔护",
    "蓬头稚子学垂纶": "胡令能", "旧时王谢堂前燕": "刘禹锡", "一道残阳铺水中": "白居易", "黑云压城城欲摧": "李贺",
    "东风不与周郎便": "杜牧", "明月几时有": "苏轼", "大江东去": "苏轼", "常记溪亭日暮": "李清照",
    "醉里挑灯看剑": "辛弃疾", "众里寻他千百度": "辛弃疾", "塞下秋来风景异": "范仲淹", "怒发冲冠": "岳飞",
    "春花秋月何时了": "李煜", "枯藤老树昏鸦": "马致远", "关关雎鸠": "佚名", "东临碣石": "曹操",
    "长太息以掩涕兮": "屈原", "人生若只如初见": "纳兰性德", "近水楼台先得月": "苏麟",
}

# Known text the package writes otherwise: a variant character, another edition, a slip it made.
OTHERWISE = {
    "暖风熏得游人醉": ("variant", "暖风薰得游人醉"),  # 薰 for 熏
    "沉舟侧畔千帆过": ("variant", "沈舟侧畔千帆过"),  # 沈 for 沉
    "钟山只隔数重山": ("variant", "钟山祇隔数重山"),  # 祇 for 只
    "杨柳岸晓风残月": ("exact", "杨柳岸晓风残月"),  # held whole across its 、
    "东篱把酒黄昏后": ("exact", "东篱把酒黄昏后"),  # corrected: the package has 把洒
    "两情若是久长时": ("exact", "两情若是久长时"),  # corrected: the package has 长久
    "东篱把洒黄昏后": ("slip", "东篱把酒黄昏后"),  # the package's slip, typed: one character off
}


@pytest.fixture(scope="module")
def builtin() -> LineIndex:
    return open_line_index(None)


def test_the_builtin_is_small_and_the_famous_poems(builtin: LineIndex) -> None:
    assert builtin.info.name == "builtin"
    assert 60_000 <= builtin.info.lines <= 100_000 and builtin.info.poems > 5_000
    assert builtin_index_path().stat().st_size < 6 * 2**20  # shipped in git: a few MiB, never tens
    assert 1_000 < builtin.info.famous_lines < builtin.info.lines


@pytest.mark.parametrize("line", sorted(REFUSED_BEFORE))
def test_lines_the_old_index_refused_are_known_with_their_source(builtin: LineIndex, line: str) -> None:
    match = builtin.match(line)
    assert match is not None and match.kind == "exact" and match.record.source == REFUSED_BEFORE[line]


@pytest.mark.parametrize("line", sorted(SCHOOL))
def test_school_lines_are_known_with_their_author(builtin: LineIndex, line: str) -> None:
    record = builtin.lookup(line)
    assert record is not None and record.text == line, line
    assert record.author == SCHOOL[line], record.source


@pytest.mark.parametrize("line", sorted(OTHERWISE))
def test_lines_the_package_writes_otherwise_are_known_and_shown_as_it_writes_them(
    builtin: LineIndex, line: str
) -> None:
    kind, corpus = OTHERWISE[line]
    match = builtin.match(line)
    assert match is not None and (match.kind, match.record.text) == (kind, corpus)
    assert match.differs == (line != corpus)


def test_a_slip_is_not_taken_where_the_token_is_or_off_a_line_nobody_knows(builtin: LineIndex) -> None:
    assert builtin.match("举头望明日", containing="日") is None  # 明日 for 明月: the 令字 would be the slip
    slip = builtin.match("举头望明日", containing="明")
    assert slip is not None and slip.kind == "slip" and slip.record.text == "举头望明月"
    assert builtin.match("床前明月光光") is None  # a slip is one character replaced, not added


def test_puzzle_pools_draw_famous_couplets(builtin: LineIndex) -> None:
    rng = random.Random(25)
    for level in ("蒙学", "常见"):
        top, collections = PUZZLE_POOLS[level]
        assert top is not None and top < 5_000
        for _ in range(30):
            pair = builtin.puzzle_pair(rng, max_rank=top, collections=collections)
            assert pair is not None
            record, wanted = pair
            answer = builtin.lookup(wanted)
            assert record.id <= top and answer is not None and answer.id <= top


def test_famous_lines_for_the_copy_guard(builtin: LineIndex) -> None:
    famous = set(builtin.famous_lines(0.5))
    assert {"床前明月光", "春眠不觉晓", "霜叶红于二月花"} <= famous and len(famous) < builtin.info.lines
