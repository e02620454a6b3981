import pytest

from poetcore.errors import PoemShapeError, UnknownFormError
from poetcore.prosody.checker import CheckReport, check, fit_lines, zh_number
from poetcore.prosody.forms import FORMS, FormTemplate, FormVariant

DENG_GAO = "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。"
SHAN_JU = "空山新雨后，天气晚来秋。明月松间照，清泉石上流。竹喧归浣女，莲动下渔舟。随意春芳歇，王孙自可留。"
SHAN_XING = "远上寒山石径斜，白云生处有人家。停车坐爱枫林晚，霜叶红于二月花。"
JING_YE_SI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
JIANG_XUE = "千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。"
WEI_CHENG = "渭城朝雨浥轻尘，客舍青青柳色新。劝君更尽一杯酒，西出阳关无故人。"  # famous 失粘


def codes(report: CheckReport) -> list[tuple[str, int, int | None]]:
    return [(v.code, v.line, v.position) for v in report.violations]


def tolerated(report: CheckReport) -> list[tuple[str, int, int | None]]:
    return [(v.code, v.line, v.position) for v in report.tolerated]


@pytest.mark.parametrize(
    ("text", "form", "rhyme"),
    [(DENG_GAO, "七律", "灰"), (SHAN_JU, "五律", "尤"), (SHAN_XING, "七绝", "麻")],
    ids=["登高", "山居秋暝", "山行"],
)
def test_famous_regulated_poems_pass(text: str, form: str, rhyme: str) -> None:
    report = check(text)
    assert report.ok, [v.message for v in report.violations]
    assert (report.form, report.rhyme_group) == (form, rhyme)
    assert all(m.mark in ("ok", "poly") for row in report.marks for m in row)


def test_variant_detection() -> None:
    assert check(DENG_GAO).variant == "仄起首句入韵"  # 急 仄, 哀 rhymes
    assert check(SHAN_JU).variant == "平起首句不入韵"  # 山 平, 后 仄
    assert check(SHAN_XING).variant == "仄起首句入韵"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "春望",
            "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。",
        ),
        ("登鹳雀楼", "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"),
        ("出塞", "秦时明月汉时关，万里长征人未还。但使龙城飞将在，不教胡马度阴山。"),
        ("枫桥夜泊", "月落乌啼霜满天，江枫渔火对愁眠。姑苏城外寒山寺，夜半钟声到客船。"),
        (
            "锦瑟",
            "锦瑟无端五十弦，一弦一柱思华年。庄生晓梦迷蝴蝶，望帝春心托杜鹃。"
            "沧海月明珠有泪，蓝田日暖玉生烟。此情可待成追忆，只是当时已惘然。",
        ),
    ],
)
def test_more_regulated_poems_pass(name: str, text: str) -> None:
    report = check(text)
    assert report.ok, (name, [v.message for v in report.violations])


def test_te_ao_line_is_accepted_with_a_note() -> None:
    report = check("黄河远上白云间，一片孤城万仞山。羌笛何须怨杨柳，春风不度玉门关。")  # 王之涣《凉州词》
    assert report.ok
    assert report.patterns[2] == "中仄平平仄平仄"
    assert report.notes == ["第三句用特拗句式（中仄平平仄平仄）"]


def test_ao_jiu_is_accepted_with_a_note() -> None:
    # 杜甫《蜀相》: 碧草自春色 (自 仄 where 平 is due) is rescued by 空 in 黄鹂空好音.
    shu_xiang = (
        "丞相祠堂何处寻，锦官城外柏森森。映阶碧草自春色，隔叶黄鹂空好音。"
        "三顾频烦天下计，两朝开济老臣心。出师未捷身先死，长使英雄泪满襟。"
    )
    report = check(shu_xiang)
    assert report.ok, [v.message for v in report.violations]
    assert report.notes == ["第三句第五字拗，第四句第五字用平声相救（拗救）"]
    # Without the rescue (空 -> 亦, a 入声) the same 拗 stands unrescued: named, tolerated (the 5th
    # character is the first of a pair), not a fault.
    broken = check(shu_xiang.replace("黄鹂空好音", "黄鹂亦好音"))
    assert broken.ok and ("tone", 2, 4) in tolerated(broken) and not broken.notes
    assert broken.tolerated[0].level == "拗" and broken.marks[2][4].mark == "ao"


def test_traditional_input_passes() -> None:
    trad = "風急天高猿嘯哀，渚清沙白鳥飛回。無邊落木蕭蕭下，不盡長江滾滾來。萬里悲秋常作客，百年多病獨登臺。艱難苦恨繁霜鬢，潦倒新停濁酒杯。"
    assert check(trad).ok


def test_jing_ye_si_checked_as_a_lv_jue_is_flagged() -> None:
    report = check(JING_YE_SI, form="五绝")  # named: a 律绝, exactly as the chart says
    assert not report.ok and report.form == "五绝" and report.style == "近体"
    found = codes(report)
    assert ("tone", 1, 3) in found  # 疑是地上霜: 上 where 平 is due
    assert ("shi_nian", 2, 1) in found  # 举头望明月 breaks 粘 with line 2
    messages = [v.message for v in report.violations]
    assert "第二句第四字应平而仄（上）" in messages
    assert any(m.startswith("第三句失粘") for m in messages)


def test_jiang_xue_checked_as_a_lv_jue_rhymes_on_ze_and_is_flagged() -> None:
    report = check(JIANG_XUE, form="五绝")
    assert not report.ok
    assert report.rhyme_group is None  # 绝 灭 雪 are all 入声
    rhyme = [v for v in report.violations if v.code == "rhyme"]
    assert [v.line for v in rhyme] == [1, 3]
    assert all("不是平声韵字" in v.message for v in rhyme)


def test_broken_tone_position() -> None:
    report = check(SHAN_XING.replace("停车", "停步"))
    assert codes(report) == [("tone", 2, 1)]
    assert report.violations[0].message == "第三句第二字应平而仄（步）"
    assert report.marks[2][1].mark == "bad"


def test_broken_rhyme() -> None:
    report = check(SHAN_XING.replace("二月花", "二月天"))
    assert codes(report) == [("rhyme", 3, 6)]
    assert report.violations[0].message == "第四句韵脚不押麻韵（“天”属先韵）"
    assert report.rhyme_group == "麻"


def test_gu_ping_five_and_seven() -> None:
    report = check(SHAN_JU.replace("清泉石上流", "竹泉石上流"))
    assert codes(report) == [("gu_ping", 3, 2)]
    assert report.violations[0].message.startswith("第四句犯孤平")
    report = check(SHAN_XING.replace("远上寒山", "远上白山"))
    assert codes(report) == [("gu_ping", 0, 4)]


def test_san_ping_wei_and_san_ze_wei() -> None:
    report = check(SHAN_JU.replace("天气晚来秋", "天气初来秋"))
    assert codes(report) == [("san_ping_wei", 1, 2)]  # 犯律
    assert tolerated(report) == [("tone", 1, 2)]  # the 3rd character, first of a pair: 拗
    assert report.violations[0].message == "第二句三平尾"
    report = check(SHAN_JU.replace("空山新雨后", "空山落雨后"))
    assert report.ok and ("san_ze_wei", 0, 2) in tolerated(report)  # 三仄尾: 拗, tolerated


def test_a_teacher_accepts_wang_wan_with_two_named_ao() -> None:
    """王湾《次北固山下》: 潮平两岸阔 is 三仄尾 with a 仄 3rd character; 王力 and both reference
    checkers accept it. 犯律 none, two 拗 named, each level in the JSON."""
    report = check("客路青山外，行舟绿水前。潮平两岸阔，风正一帆悬。海日生残夜，江春入旧年。乡书何处达，归雁洛阳边。")
    assert report.ok and codes(report) == []
    assert tolerated(report) == [("tone", 2, 2), ("san_ze_wei", 2, 2)]
    data = report.to_dict()
    assert data["ok"] and data["violations"] == [] and {v["level"] for v in data["tolerated"]} == {"拗"}
    assert [m.mark for m in report.marks[2]] == ["ok", "ok", "ao", "ao", "ao"]


def test_a_wrong_tone_at_a_key_position_is_still_a_fault() -> None:
    # 2nd character (a key position, "二四六分明"): 犯律, whatever else.
    report = check("客路青山外，行舟绿水前。潮落两岸阔，风正一帆悬。海日生残夜，江春入旧年。乡书何处达，归雁洛阳边。")
    assert not report.ok and ("tone", 2, 1) in codes(report) and report.violations[0].level == "犯律"


def test_shi_nian() -> None:
    report = check(WEI_CHENG)
    nian = [v for v in report.violations if v.code in ("shi_nian", "shi_dui")]
    assert [(v.code, v.line) for v in nian] == [("shi_nian", 2)]
    assert nian[0].message.startswith("第三句失粘")


@pytest.mark.parametrize(
    "text",
    [
        "远上寒山石径斜白云生处有人家停车坐爱枫林晚霜叶红于二月花",
        "远上寒山石径斜白云生处有人家\n停车坐爱枫林晚霜叶红于二月花",
        "远上寒山石径斜,白云生处有人家.\n停车坐爱枫林晚;霜叶红于二月花!",
        "  远上寒山石径斜\n\n白云生处有人家\n停车坐爱枫林晚\n霜叶红于二月花\n",
    ],
    ids=["no-punctuation", "couplet-lines", "half-width", "newlines"],
)
def test_punctuation_is_optional(text: str) -> None:
    report = check(text)
    assert report.ok and report.form == "七绝"
    assert report.lines[3] == "霜叶红于二月花"


def test_forced_form() -> None:
    assert check(SHAN_XING, form="七言绝句").form == "七绝"
    with pytest.raises(PoemShapeError, match="不是五律"):
        check(SHAN_XING, form="五律")
    with pytest.raises(UnknownFormError, match="支持的体裁"):
        check(SHAN_XING, form="十四行诗")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("床前明月光，疑是地上霜。举头望明月。", "共3段"),
        ("床前明月光，疑是地上霜。举头望明月，低头思故乡啊啊。", "5、5、5、7"),
        ("Moonlight before my bed, like frost upon the ground.", "非汉字字符“M”"),
        ("床前明月光，疑是地上霜。举头望明月，低头思故乡1。", "非汉字字符“1”"),
        ("  ，。\n", "输入为空"),
    ],
    ids=["line-count", "mixed-lengths", "english", "digit", "empty"],
)
def test_bad_shapes_name_the_problem_and_the_supported_shapes(text: str, fragment: str) -> None:
    with pytest.raises(PoemShapeError) as err:
        check(text)
    assert fragment in err.value.message_zh
    assert "五绝（4句×5字）" in err.value.message_zh and "七律（8句×7字）" in err.value.message_zh
    assert "Supported shapes" in err.value.message_en


def test_fit_lines_respects_segment_boundaries() -> None:
    qijue = FORMS["七绝"]
    assert fit_lines(["远上寒山石径斜白云生处有人家", "停车坐爱枫林晚霜叶红于二月花"], qijue) is not None
    assert fit_lines(["远上寒山石径", "斜白云生处有人家停车坐爱枫林晚霜叶红于二月花"], qijue) is None


def test_custom_mixed_length_form_is_checked_without_code_changes() -> None:
    toy = FormTemplate(
        "小令", (FormVariant("正体", ("中平平", "中仄平", "中仄中平中仄平"), (1, 2)),), rules=frozenset()
    )
    assert check("江山远，水云长，明月松间照清光", form=toy).ok is False
    report = check("江山远，水云长，红于二月石头乡", form=toy)
    assert report.form == "小令" and report.rhyme_group == "阳"


def test_to_dict_is_json_ready() -> None:
    data = check(JING_YE_SI, form="五绝").to_dict()
    assert set(data) >= {"ok", "form", "variant", "lines", "rhyme_group", "violations", "marks", "notes"}
    assert data["ok"] is False and data["lines"][0] == "床前明月光"
    assert set(data["violations"][0]) >= {"code", "line", "position", "message"}


def test_zh_number() -> None:
    assert [zh_number(n) for n in (1, 8, 10, 12, 20, 21)] == ["一", "八", "十", "十二", "二十", "二十一"]


def test_qiu_xing_rhymes_on_cha() -> None:
    # 杜甫《秋兴八首》其二 needs the 槎 erratum of the rhyme table.
    report = check(
        "夔府孤城落日斜，每依北斗望京华。听猿实下三声泪，奉使虚随八月槎。"
        "画省香炉违伏枕，山楼粉堞隐悲笳。请看石上藤萝月，已映洲前芦荻花。"
    )
    assert report.ok and report.rhyme_group == "麻"


def test_first_line_may_borrow_a_neighbouring_group_and_it_is_named() -> None:
    # 踪 (冬) opens a poem in 东: 首句借邻韵, 孤雁出群 (东 and 冬 share 词林正韵 第一部).
    report = check("客中何处觅闲踪，一片秋声万壑风。独立斜阳无个事，数峰青入画图中。")
    assert report.ok and report.rhyme_group == "东"
    assert any("首句借邻韵" in note and "踪" in note for note in report.notes)
    assert report.repeats == ["“中”字重出（第一、四句）"]  # noted, not a fault
    # A non-first line may not borrow.
    assert not check("客中何处觅闲风，一片秋声万壑踪。独立斜阳无个事，数峰青入画图中。").ok


def test_the_same_rhyme_character_twice_is_chong_yun() -> None:
    report = check("白日依山尽，黄河入海流。欲穷千里目，更上一层流。")
    assert ("chong_yun", 3, 4) in codes(report) and "重韵" in report.violations[-1].message
    assert check("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。").repeats == []
    assert check("空山新雨后，天气晚来秋。明月松间照，清泉石上流。竹喧归浣女，莲动下渔舟。随意春芳歇，王孙自可留。").repeats == []


def test_editorial_notes_pasted_with_a_poem_are_ignored() -> None:
    report = check("谢公最小偏怜女，自嫁黔娄百事乖。顾我无衣搜荩箧，泥他沽酒拔金钗。(荩箧 一作：画箧)"
                   "野蔬充膳甘长藿，落叶添薪仰古槐。今日俸钱过十万，与君营奠复营斋。")
    assert report.form == "七律" and report.lines[1] == "自嫁黔娄百事乖"


# -- 古绝 ---------------------------------------------------------------------------------------

CHUN_XIAO = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"
DENG_GUAN_QUE = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
QING_MING = "清明时节雨纷纷，路上行人欲断魂。借问酒家何处有，牧童遥指杏花村。"
BO_QIN_HUAI = "烟笼寒水月笼沙，夜泊秦淮近酒家。商女不知亡国恨，隔江犹唱后庭花。"
CHU_SAI = "秦时明月汉时关，万里长征人未还。但使龙城飞将在，不教胡马度阴山。"


@pytest.mark.parametrize(
    ("text", "form", "tone", "rhyme"),
    [(CHUN_XIAO, "五绝仄韵", "仄", "上声筿"), (JIANG_XUE, "五绝仄韵", "仄", "入声屑"), (JING_YE_SI, "五绝", "平", "阳")],
    ids=["春晓", "江雪", "静夜思"],
)
def test_gu_jue_are_named_and_judged_on_their_rhyme(text: str, form: str, tone: str, rhyme: str) -> None:
    report = check(text)
    assert (report.form_label, report.style, report.form) == ("古绝", "古体", form)
    assert (report.rhyme_tone, report.rhyme_name) == (tone, rhyme)
    assert report.ok and report.violations == [] and report.tolerated == []  # the rhyme is right
    assert report.reference and {v.level for v in report.reference} == {"参考"}  # the chart, as information
    assert all(m.mark != "bad" for row in report.marks for m in row)
    data = report.to_dict()
    assert data["form_label"] == "古绝" and data["style"] == "古体" and data["reference"]


def test_jing_ye_si_keeps_its_lv_jue_findings_as_reference() -> None:
    report = check(JING_YE_SI)
    assert [(v.code, v.line, v.position) for v in report.reference] == [
        ("tone", 1, 3), ("tone", 2, 1), ("shi_nian", 2, 1), ("shi_dui", 3, 1)]
    assert report.reference[0].message == "第二句第四字应平而仄（上）"
    assert report.marks[1][3].mark == "ao"  # named (△), not failed (✗)


@pytest.mark.parametrize(
    ("text", "form"),
    [(DENG_GUAN_QUE, "五绝"), (QING_MING, "七绝"), (BO_QIN_HUAI, "七绝"), (CHU_SAI, "七绝"), (SHAN_XING, "七绝"),
     (WEI_CHENG, "七绝")],
    ids=["登鹳雀楼", "清明", "泊秦淮", "出塞", "山行", "渭城曲"],
)
def test_real_lv_jue_stay_lv_jue(text: str, form: str) -> None:
    report = check(text)
    assert (report.form_label, report.style) == (form, "近体") and report.reference == []


def test_wei_cheng_qu_keeps_its_shi_nian_as_a_lv_jue() -> None:
    """王维《渭城曲》: a 失粘 between the couplets (折腰体) does not make a 古绝; it stays 犯律."""
    assert ("shi_nian", 2, 1) in codes(check(WEI_CHENG))


@pytest.mark.parametrize(
    ("text", "wrong", "fault"),
    [(DENG_GUAN_QUE, ("黄河", "黄石"), ("tone", 1, 1)), (QING_MING, ("路上", "路边"), ("tone", 1, 1)),
     (CHU_SAI, ("龙城", "龙域"), ("tone", 2, 3)), (BO_QIN_HUAI, ("后庭花", "后庭树"), ("rhyme", 3, 6))],
    ids=["登鹳雀楼", "清明", "出塞", "泊秦淮"],
)
def test_a_lv_jue_with_one_wrong_character_keeps_its_fault(
        text: str, wrong: tuple[str, str], fault: tuple[str, int, int]) -> None:
    report = check(text.replace(*wrong))
    assert report.style == "近体" and not report.ok and fault in codes(report)


def test_every_single_slip_in_a_lv_jue_stays_a_lv_jue() -> None:
    """One character of the other tone anywhere in a 律绝 never makes it a 古绝 (the criterion counts
    faults by cause: a wrong 2nd character and the 失对 it brings are one)."""
    for text in (DENG_GUAN_QUE, QING_MING, BO_QIN_HUAI, CHU_SAI, SHAN_XING):
        report = check(text)
        for li, row in enumerate(report.marks):
            for pos, mark in enumerate(row):
                if mark.tones not in ("平", "仄"):
                    continue  # polyphonic or unknown: no single other tone to put there
                swap = "地" if mark.tones == "平" else "天"
                slipped = [x[:pos] + swap + x[pos + 1:] if i == li else x for i, x in enumerate(report.lines)]
                assert check("，".join(slipped)).style == "近体", slipped


def test_a_ze_rhyme_needs_both_rhyme_lines_in_one_ze_group() -> None:
    report = check(JIANG_XUE.replace("独钓寒江雪", "独钓寒江月"))  # 月: 入声六月, not 九屑 (同部: 第十八部)
    assert report.style == "古体" and report.ok and any("邻韵通押" in n and "月" in n for n in report.notes)
    forced = check(JIANG_XUE.replace("独钓寒江雪", "独钓寒江花"), form="五绝仄韵")
    assert not forced.ok and [(v.code, v.line) for v in forced.violations] == [("rhyme", 3)]
    assert forced.violations[0].message == "第四句韵脚不押入声屑韵（“花”属麻韵）"
    assert forced.form_label == "古绝" and forced.rhyme_name == "入声屑"


def test_shang_qu_tong_ya_is_a_named_licence() -> None:
    """A 上声 rhyme with a 去声 one of the same 词林正韵 部 is 上去通押: accepted in 古体, and named."""
    report = check("孤云将野鹤，岂向人间住。莫买沃洲山，时人闻暮鼓。", form="五绝仄韵")  # 住 去声遇, 鼓 上声麌
    assert report.ok and report.rhyme_name == "去声遇"
    assert report.notes == ["第四句上去通押：“鼓”属上声麌韵，与去声遇韵同在词林正韵第四部"]
    assert not check("孤云将野鹤，岂向人间住。莫买沃洲山，时人闻暮雪。", form="五绝仄韵").ok  # 入声: never with 去


def test_a_ze_rhyme_poem_named_as_a_lv_jue_is_checked_as_one() -> None:
    report = check(CHUN_XIAO, form="五绝")
    assert report.style == "近体" and report.form_label == "五绝" and not report.ok
    assert [v.line for v in report.violations if v.code == "rhyme"] == [1, 3]


def test_ze_rhyme_form_tones_are_reference_not_faults() -> None:
    report = check(CHUN_XIAO, form="五绝仄韵")
    assert report.ok and report.variant == "平起首句入韵"
    assert [(v.line, v.position) for v in report.reference] == [(2, 1), (2, 3), (3, 1), (3, 3)]
    assert report.reference[0].message == "第三句第二字按谱宜仄而平（来）"
    assert report.marks[2][1].mark == "ao"


def test_san_ping_wei_with_another_fault_marks_a_gu_jue() -> None:
    """刘长卿《听弹琴》: 静听松风寒 ends in 三平尾 and 失对s line 1; read as 古绝, its rhyme is 寒."""
    report = check("泠泠七弦上，静听松风寒。古调虽自爱，今人多不弹。")
    assert report.form_label == "古绝" and report.ok and report.rhyme_name == "寒"
    assert "san_ping_wei" in [v.code for v in report.reference]


def test_a_gu_jue_whose_rhyme_fails_is_not_ok_and_says_where() -> None:
    report = check(JING_YE_SI.replace("低头思故乡", "低头思故园"))  # 园: 元韵
    assert report.form_label == "古绝" and not report.ok
    assert [(v.code, v.line, v.position) for v in report.violations] == [("rhyme", 3, 4)]
    assert report.violations[0].message == "第四句韵脚不押阳韵（“园”属元韵）"
    assert report.marks[3][4].mark == "bad"
