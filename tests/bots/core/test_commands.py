"""The one command parser: every command, its aliases, and every error path with its message."""

from __future__ import annotations

import pytest

from bots.core.commands import COMMAND_ALIASES, Command, CommandError, Limits, parse_command, safe_echo
from poetcore.errors import PoetcoreInputError
from poetcore.prosody.forms import FORMS, get_form
from poetcore.request import MAX_TOPIC_CHARS, validate_heads, validate_prefix


def parse(text: str, **kw: object) -> Command | None:
    return parse_command(text, bot_username="PoetBot", **kw)  # type: ignore[arg-type]


def error_of(text: str, **kw: object) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse(text, **kw)
    return info.value


# --- /poem -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic", "form", "rhyme"),
    [
        ("/ci 浣溪沙 秋思", "秋思", "浣溪沙", None),
        ("/ci 秋思 浣溪沙 部=7", "秋思", "浣溪沙", "部7"),
        ("/ci 忆江南 春景 韵=东", "春景", "忆江南", "部1"),  # an alias; a character names its 部
        ("/ci 醉落魄 秋夜", "秋夜", "醉落魄", None),
        ("/ci 满江红 怀古 部=十八", "怀古", "满江红", "部18"),
        ("/poem 秋月 如梦令", "秋月", "如梦令", None),  # /poem takes a 词牌 as its form
        ("/poem 长相思", "长相思", "长相思", None),  # the tune's own theme
        ("填词 蝶恋花 春晚 繁", "春晚", "蝶恋花", None),
        ("/poem 秋月 七绝 仄韵", "秋月", "七绝仄韵", None),
        ("/poem 春晓 五绝 韵=鸟", "春晓", "五绝仄韵", "筿"),
        ("/poem 雪夜 韵=屑", "雪夜", "七绝仄韵", "屑"),
        ("/poem 秋月 押秋韵", "秋月", "七绝", "尤"),  # a character with one 平声 reading names its group
    ],
)
def test_ci_and_ze_rhyme(text: str, topic: str, form: str, rhyme: str | None) -> None:
    cmd = parse(text)
    assert cmd is not None and cmd.name == "poem"
    assert (cmd.topic, cmd.form, cmd.rhyme) == (topic, form, rhyme)
    assert cmd.traditional == ("繁" in text)


def test_ci_alone_lists_the_cipai() -> None:
    assert parse("/ci") == Command("ci_list")
    assert parse("词牌") == Command("ci_list")


@pytest.mark.parametrize(
    ("text", "topic", "form"),
    [
        ("/poem 秋月 七绝", "秋月", "七绝"),
        ("/poem 七绝 秋月", "秋月", "七绝"),
        ("/poem 秋月", "秋月", "七绝"),  # default form
        ("/poem 秋月 五律", "秋月", "五律"),
        ("/poem 秋月七律", "秋月", "七律"),  # form glued to the topic
        ("/poem 秋月 七言绝句", "秋月", "七绝"),  # poetcore's own form aliases
        ("/poem 秋月 体=五绝", "秋月", "五绝"),
        ("/poem 秋月 form=qilv", "秋月", "七律"),
        ("/poem 秋 月", "秋月", "七绝"),  # several words make one topic
        ("/poem 秋月，七绝", "秋月", "七绝"),  # Chinese comma between words
        ("/poem　秋月　七绝", "秋月", "七绝"),  # full-width spaces
        ("/poem 《秋月》", "秋月", "七绝"),  # title marks are not part of the topic
        ("/POEM 秋月", "秋月", "七绝"),
        ("/poem@PoetBot 秋月 七绝", "秋月", "七绝"),
        ("/poem@poetbot 秋月", "秋月", "七绝"),  # usernames are case-insensitive
        ("!poem 秋月 七绝", "秋月", "七绝"),
        ("！作诗 秋月", "秋月", "七绝"),
        ("/作诗 秋月 七律", "秋月", "七律"),
        ("/写诗 秋月", "秋月", "七绝"),
        ("作诗 秋月 七绝", "秋月", "七绝"),  # plain-text Chinese trigger
        ("写诗 春风", "春风", "七绝"),
        ("@PoetBot 作诗 春风", "春风", "七绝"),
        ("@PoetBot /poem 春风", "春风", "七绝"),
        ("/poem 秋月 繁", "秋月", "七绝"),
    ],
)
def test_poem_forms_and_topics(text: str, topic: str, form: str) -> None:
    cmd = parse(text)
    assert cmd is not None
    assert (cmd.name, cmd.topic, cmd.form) == ("poem", topic, form)


def test_default_form_is_configurable() -> None:
    cmd = parse("/poem 秋月", default_form="五律")
    assert cmd is not None and cmd.form == "五律"


@pytest.mark.parametrize(
    ("text", "rhyme"),
    [
        ("/poem 秋月 韵=东", "东"),
        ("/poem 秋月 韵＝东", "东"),
        ("/poem 秋月 韵：东", "东"),
        ("/poem 秋月 rhyme=冬", "冬"),
        ("/poem 秋月 rhyme = 冬", "冬"),
        ("/poem 秋月 押阳韵", "阳"),
        ("/poem 秋月 韵=一东", "东"),
        ("/poem 秋月 韵=上平一东", "东"),
        ("/poem 秋月 韵=東", "东"),  # traditional spelling
        ("/poem 秋月 韵=东韵", "东"),
        ("/poem 秋月", None),
    ],
)
def test_rhyme_option(text: str, rhyme: str | None) -> None:
    cmd = parse(text)
    assert cmd is not None and cmd.rhyme == rhyme


@pytest.mark.parametrize(
    ("text", "traditional"),
    [
        ("/poem 秋月 繁", True),
        ("/poem 秋月 繁体", True),
        ("/poem 秋月 繁體", True),
        ("/poem 秋月 trad", True),
        ("/poem 秋月 Traditional", True),
        ("/poem 秋月 繁 简", False),  # the last script word wins
        ("/poem 秋月", False),
    ],
)
def test_traditional_option(text: str, traditional: bool) -> None:
    cmd = parse(text)
    assert cmd is not None and cmd.traditional is traditional


def test_all_options_together() -> None:
    assert parse("/poem 七律 韵=东 秋月 繁") == Command("poem", topic="秋月", form="七律", rhyme="东", traditional=True)


# --- /cang -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "heads", "form", "topic"),
    [
        ("/cang 春夏秋冬 七绝", "春夏秋冬", "七绝", None),
        ("/cang 七绝 春夏秋冬", "春夏秋冬", "七绝", None),
        ("/cang 春夏秋冬", "春夏秋冬", "七绝", None),  # the default form has 4 lines
        ("/cang 春夏秋冬 五绝 四季", "春夏秋冬", "五绝", "四季"),
        ("/cang 春夏秋冬春夏秋冬", "春夏秋冬春夏秋冬", "七律", None),  # 8 heads -> the 律 of the default length
        ("/acrostic 春夏秋冬 七绝", "春夏秋冬", "七绝", None),
        ("/藏头 春夏秋冬", "春夏秋冬", "七绝", None),
        ("藏头诗 春夏秋冬 五绝", "春夏秋冬", "五绝", None),
        ("/cang 春夏秋冬七绝", "春夏秋冬", "七绝", None),
    ],
)
def test_cang(text: str, heads: str, form: str, topic: str | None) -> None:
    cmd = parse(text)
    assert cmd is not None
    assert (cmd.name, cmd.heads, cmd.form, cmd.topic) == ("acrostic", heads, form, topic)


def test_cang_with_five_char_default_picks_five_char_lu() -> None:
    cmd = parse("/cang 春夏秋冬春夏秋冬", default_form="五绝")
    assert cmd is not None and cmd.form == "五律"


def test_cang_keeps_rhyme_and_script() -> None:
    cmd = parse("/cang 春夏秋冬 韵=东 繁")
    assert cmd is not None and (cmd.rhyme, cmd.traditional) == ("东", True)


# --- /check and the simple commands ------------------------------------------------------------


def test_check_keeps_text_verbatim() -> None:
    poem = "白日依山尽，黄河入海流。\n欲穷千里目，更上一层楼。"
    assert parse(f"/check {poem}") == Command("check", text=poem)
    assert parse(f"/check\n{poem}") == Command("check", text=poem)


def test_check_with_forced_form() -> None:
    assert parse("/check 五绝 白日依山尽，黄河入海流。") == Command("check", form="五绝", text="白日依山尽，黄河入海流。")
    assert parse("/格律 白日依山尽") == Command("check", text="白日依山尽")


@pytest.mark.parametrize("name", ["forms", "help", "queue", "cancel", "start"])
def test_simple_commands_and_their_aliases(name: str) -> None:
    for alias in COMMAND_ALIASES[name]:
        assert parse(f"/{alias}") == Command(name)
        assert parse(f"/{alias}@PoetBot") == Command(name)


def test_private_plain_text_aliases() -> None:
    assert parse("帮助") == Command("help")
    assert parse("取消") == Command("cancel")
    assert parse("排队") == Command("queue")


# --- not for us --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "is_group"),
    [
        ("/poem@OtherBot 秋月", False),  # addressed to another bot
        ("/foo@OtherBot", False),
        ("@OtherBot 作诗 秋月", True),
        ("hello there", False),
        ("秋月", False),
        ("作诗好难", False),  # an alias must be a whole word
        ("", False),
        ("   ", False),
        ("取消", True),  # in groups only the poem triggers work as plain text
        ("帮助", True),
        ("/foo", True),  # unknown commands in groups are probably for another bot
        ("!foo", False),
        ("!!!", False),
    ],
)
def test_not_a_command_for_us(text: str, is_group: bool) -> None:
    assert parse(text, is_group=is_group) is None


def test_group_plain_poem_trigger_works() -> None:
    cmd = parse("作诗 秋月", is_group=True)
    assert cmd is not None and cmd.topic == "秋月"


# --- every error path --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "needle_zh", "needle_en"),
    [
        ("/foo", "err_unknown_command", "/foo", "/foo"),
        ("/poem", "err_topic_missing", "/poem 秋月", "/poem 秋月"),
        ("/poem 七绝", "err_topic_missing", "主题", "topic"),
        ("/poem 繁", "err_topic_missing", "主题", "topic"),
        ("/poem 一二三四五六七八九十一二三", "err_topic_too_long", "13", "13"),
        ("/poem moon", "err_topic_latin", "moon", "moon"),
        ("/poem autumn moon", "err_topic_latin", "autumn", "autumn"),
        ("/poem 🌙", "err_topic_not_han", "🌙", "🌙"),
        ("/poem 秋月🌙", "err_topic_not_han", "秋月🌙", "秋月🌙"),
        ("/poem 秋月 123", "err_topic_not_han", "123", "123"),
        ("/poem 秋月 五古", "err_unknown_form", "五古", "五古"),
        ("/poem 秋月 七言排律", "err_unknown_form", "七绝", "七绝"),
        ("/poem 秋月 体=词", "err_unknown_form", "词", "词"),
        ("/poem 秋月 七绝 五律", "err_form_conflict", "五律", "五律"),
        ("/poem 秋月 韵=xx", "err_rhyme_unknown", "东、冬", "东, 冬"),
        ("/poem 秋月 押火星韵", "err_rhyme_unknown", "火星", "火星"),
        ("/poem 秋月 七律 韵=董", "err_rhyme_ze", "七律", "七律"),
        ("/poem 秋月 五律 仄韵", "err_rhyme_ze", "五律", "五律"),
        ("/poem 秋月 七绝仄韵 韵=东", "err_rhyme_ping", "七绝仄韵", "七绝仄韵"),
        ("/poem 秋月 韵=行", "err_rhyme_ambiguous", "阳", "阳"),
        ("/ci 浣溪沙 秋思 部=xyz", "err_bu_unknown", "xyz", "xyz"),
        ("/ci 浣溪沙 秋思 部=16", "err_bu_tone", "浣溪沙", "浣溪沙"),
        ("/ci 满江红 怀古 韵=东", "err_bu_tone", "满江红", "满江红"),
        ("/ci 浣沙溪 秋思", "err_ci_unknown", "浣溪沙", "浣溪沙"),
        ("/ci 秋思", "err_ci_missing", "/ci 浣溪沙", "/ci 浣溪沙"),
        ("/ci 七绝 秋思", "err_ci_shi", "七绝", "七绝"),
        ("/ci 浣溪沙 秋思 韵=东 部=7", "err_rhyme_conflict", "东", "东"),
        ("/poem 秋月 韵=东 韵=冬", "err_rhyme_conflict", "东、冬", "东, 冬"),
        ("/poem 秋月 韵=", "err_option_empty", "韵", "韵"),
        ("/poem 秋月 color=red", "err_unknown_option", "color=red", "color=red"),
        ("/cang", "err_heads_missing", "/cang 春夏秋冬", "/cang 春夏秋冬"),
        ("/cang 七绝", "err_heads_missing", "藏头", "head"),
        ("/cang ABCD", "err_heads_not_han", "ABCD", "ABCD"),
        ("/cang 春夏秋 七绝", "err_heads_count", "3", "3"),
        ("/cang 春夏秋冬 七律", "err_heads_count", "8", "8"),
        ("/cang 春夏秋", "err_heads_count_any", "4、8", "4, 8"),
        ("/cang 春夏秋冬 七绝 moon", "err_topic_latin", "moon", "moon"),
        ("/cang 春夏秋 七绝 moon", "err_heads_count", "3", "3"),  # the heads' fault first, as written
        ("/check", "err_check_missing", "/check", "/check"),
        ("/check    ", "err_check_missing", "/check", "/check"),
    ],
)
def test_errors_explain_and_give_an_example(text: str, key: str, needle_zh: str, needle_en: str) -> None:
    err = error_of(text)
    assert err.key == key
    zh, en = err.message(), err.message("en-US")
    assert needle_zh in zh and needle_en in en
    assert zh != en
    # Every error either shows an example command or lists the valid choices.
    assert "例如" in zh or "可选" in zh, zh
    assert "e.g." in en or "Example" in en or "Choices" in en, en


def test_cang_count_example_matches_the_line_length() -> None:
    assert "/cang 春夏秋冬 五绝" in error_of("/cang 春夏秋冬 五律").message()
    assert "/cang 春夏秋冬 七绝" in error_of("/cang 春夏 七绝").message()


def test_message_length_limit() -> None:
    limits = Limits(max_message_chars=50)
    err = error_of("/check " + "白日依山尽，" * 20, limits=limits)
    assert err.key == "err_too_long" and "50" in err.message()
    assert parse("/poem 秋月", limits=limits) is not None


def test_long_text_not_for_us_is_ignored_not_refused() -> None:
    assert parse("闲聊" * 500, is_group=True) is None


def test_topic_limit_is_configurable() -> None:
    assert parse("/poem 秋月思乡", limits=Limits(max_topic_chars=4)) is not None
    assert error_of("/poem 秋月思乡人", limits=Limits(max_topic_chars=4)).key == "err_topic_too_long"


def test_twelve_han_characters_are_accepted() -> None:
    cmd = parse("/poem 一二三四五六七八九十一二")
    assert cmd is not None and cmd.topic == "一二三四五六七八九十一二"


def test_topic_limit_is_the_composers() -> None:
    assert Limits().max_topic_chars == MAX_TOPIC_CHARS


@pytest.mark.parametrize(
    "text",
    ["/poem 秋月 [点我](https://evil.example)", "/poem @everyone", "/poem 秋月\u202eevil\x00", "/poem `rm -rf`",
     "/cang **粗体**", "/foo_[x](http://a.b)"],
)
def test_echoes_carry_no_markup_controls_or_links(text: str) -> None:
    """Issue 10: an error reply quotes the user's input without markup, bidi or control characters."""
    err = error_of(text)
    for locale in ("zh", "en"):
        msg = err.message(locale)
        assert not any(c in msg for c in ("\u202e", "\x00", "](", "://", "@everyone", "`", "**")), msg


def test_safe_echo_is_bounded_and_keeps_chinese() -> None:
    assert safe_echo("秋月" * 20) == "秋月" * 9 + "秋…"
    assert safe_echo("a\ud800b") == "ab"


@pytest.mark.parametrize("text", ["/poem \ud800", "/poem 秋\ud800月", "/check 床前\ud800明月光"])
def test_a_lone_surrogate_is_answered_not_crashed_on(text: str) -> None:
    try:
        cmd = parse(text)
    except CommandError as err:
        assert "\ud800" not in err.message("zh")
    else:
        assert cmd is not None


def test_continue_parses_lines_and_infers_the_form() -> None:
    cmd = parse_command("/xu 白日依山盡")
    assert cmd is not None and (cmd.name, cmd.form, cmd.text) == ("continue", "五绝", "白日依山尽")
    cmd = parse_command("/xu 秦时明月汉时关，万里长征人未还 七律")
    assert cmd is not None and (cmd.form, cmd.text) == ("七律", "秦时明月汉时关，万里长征人未还")
    assert parse_command("续写 白日依山尽", is_group=True) is not None


@pytest.mark.parametrize(("text", "key"), [
    ("/xu", "err_prefix_missing"),
    ("/xu 白日依山", "err_prefix_length"),
    ("/xu 白日依山尽 黄河入海", "err_prefix_line"),
    ("/xu 白日依山尽 黄河入海流 欲穷千里目 更上一层楼", "err_prefix_full"),
    ("/xu hello", "err_prefix_not_han"),
])
def test_continue_mistakes_say_what_to_fix(text: str, key: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text)
    assert info.value.key == key and info.value.message("zh") and info.value.message("en")


def test_couplet_takes_one_line_of_five_or_seven() -> None:
    cmd = parse_command("/dui 春風又綠江南岸")
    assert cmd is not None and (cmd.name, cmd.form, cmd.text) == ("couplet", "七言联", "春风又绿江南岸")
    cmd = parse_command("对句 白日依山尽。 五绝", is_group=True)  # a form beside it: the length decides
    assert cmd is not None and (cmd.form, cmd.text) == ("五言联", "白日依山尽")


@pytest.mark.parametrize(("text", "key"), [
    ("/dui", "err_couplet_missing"),
    ("/dui hello", "err_couplet_not_han"),
    ("/dui 白日依山", "err_couplet_length"),
    ("/dui 白日依山尽，黄河入海流", "err_couplet_one_line"),
    ("/dui 白日依山尽 黄河入海流", "err_couplet_one_line"),
])
def test_couplet_mistakes_speak_of_couplets(text: str, key: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text)
    assert info.value.key == key
    zh, en = info.value.message("zh"), info.value.message("en")
    assert "/dui" in zh and "/dui" in en and "对句" in zh
    assert "续写" not in zh and "/xu" not in zh + en  # not 续写's words (`/dui hello` once said them)


def _engine_accepts(rule: object, value: object, form: str) -> bool:
    try:
        rule(value, get_form(form))  # type: ignore[operator]
    except PoetcoreInputError:
        return False
    return True


def _bot_accepts(text: str) -> bool:
    try:
        return parse_command(text) is not None
    except CommandError:
        return False


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("heads", ["春夏秋冬", "春夏秋", "春夏秋冬梅兰竹菊", "春夏秋冬梅", "ABCD", "春夏a冬", "龘龘龘龘"])
def test_acrostic_heads_follow_the_engines_rule(heads: str, form: str) -> None:
    """One rule: the bot refuses heads exactly when the engine would."""
    assert _bot_accepts(f"/cang {heads} {form}") == _engine_accepts(validate_heads, heads, form)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("lines", [["白日依山尽"], ["白日依山"], ["白日依山尽", "黄河入海"], ["秦时明月汉时关"],
                                   ["白日依山尽", "黄河入海流", "欲穷千里目"],
                                   ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"]])
def test_continue_lines_follow_the_engines_rule(lines: list[str], form: str) -> None:
    assert _bot_accepts(f"/xu {'，'.join(lines)} {form}") == _engine_accepts(validate_prefix, lines, form)
