"""Slash-command declarations, and their options handed to the chat core as typed values.

Each command passes its options to the core as `CommandOptions`; the core builds its `Command` from
them by the rules of the one parser (`bots.core.commands.build_command`), so Discord, Telegram and
the console accept and refuse the same things with the same messages, without the options being
written back into a text and read again. The games read their own arguments, so their options
become the text they read (``/fhl 月 古法``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from bots.core.commands import CommandOptions

__all__ = [
    "FORMS",
    "SLASH_COMMANDS",
    "PoetTranslator",
    "fhl_text",
    "jieju_text",
    "register_commands",
]

FORMS = ("五绝", "七绝", "五律", "七律")
"""The form choices offered in the slash UI (the parser also accepts aliases typed by hand)."""

SLASH_COMMANDS = ("poem", "ci", "cang", "xu", "dui", "check", "rhyme", "yun", "fhl", "jieju", "cai", "a", "hint", "stop", "rank", "queue", "cancel",
                  "forms", "help")

EN_LOCALES = (discord.Locale.american_english, discord.Locale.british_english)

# Discord-only UI text (option help shown in the slash picker); replies come from bots.core.messages.
_TEXT: dict[str, tuple[str, str]] = {  # key -> (zh, en)
    "poem": ("按主题作一首格律诗", "Write a regulated poem on a topic"),
    "cang": ("作一首藏头诗", "Write an acrostic poem"),
    "ci": ("按词牌填一首词", "Write a 词 to a tune (词牌)"),
    "ci.cipai": ("词牌，如 浣溪沙、如梦令；不填则列出全部", "The tune, e.g. 浣溪沙 如梦令; empty: list them all"),
    "ci.topic": ("主题（汉字），如 秋思；可不填", "Topic in Chinese characters, e.g. 秋思 (optional)"),
    "ci.rhyme": ("词林正韵的部（1–19）或一个字，如 7、东", "词林正韵 section (1-19) or a character, e.g. 7 or 东"),
    "check": ("检查一首诗的平仄和押韵", "Check the tones and rhyme of a poem"),
    "queue": ("查看我的排队位置", "Show my place in the queue"),
    "cancel": ("取消我排队中的请求", "Cancel my queued request"),
    "forms": ("支持的诗体", "Supported forms"),
    "help": ("用法说明", "How to use this bot"),
    "poem.topic": ("主题（汉字），如 秋月", "Topic in Chinese characters, e.g. 秋月 (autumn moon)"),
    "poem.form": ("诗体，默认七绝", "Form (default 七绝)"),
    "poem.rhyme": ("平水韵平声韵部，如 东、江、阳", "平水韵 level-tone rhyme group, e.g. 东 江 阳"),
    "poem.traditional": ("用繁体字回复", "Reply in traditional characters"),
    "cang.heads": ("藏头字，每句一个，如 春夏秋冬", "Head characters, one per line, e.g. 春夏秋冬"),
    "cang.form": ("诗体，须与藏头字数相符", "Form; its line count must match the head characters"),
    "cang.topic": ("可选的主题，如 四季", "Optional topic, e.g. 四季 (seasons)"),
    "cang.traditional": ("用繁体字回复", "Reply in traditional characters"),
    "check.poem": ("要检查的诗，如 白日依山尽，黄河入海流。…", "The poem to check, e.g. 白日依山尽，黄河入海流。…"),
    "rhyme": ("查一个字的声调、韵部与名句", "Look up a character's tones, rhyme groups and famous lines"),
    "rhyme.char": ("一个汉字，如 行", "One Chinese character, e.g. 行"),
    "yun": ("列出一个韵部的常用韵字", "List a rhyme group's most used characters"),
    "yun.group": ("韵目，如 东、一先", "A rhyme group, e.g. 东 or 一先"),
    "fhl": ("飞花令", "Play 飞花令"),
    "a": ("游戏作答", "Answer in a game"),
    "jieju": ("接句", "Complete the famous line"),
    "xu": ("续写：接着你的诗句写完", "Continue your own lines"),
    "cai": ("猜诗句：诗词版 Wordle", "A Wordle of verse"),
    "dui": ("对句：给一句，我对下一句", "A matching line for yours"),
    "dui.line": ("你的一句，如 白日依山尽", "Your line, e.g. 白日依山尽"),
    "cai.length": ("句子字数：5 或 7", "Line length: 5 or 7"),
    "xu.lines": ("你的诗句，如 白日依山尽 或 白日依山尽，黄河入海流", "Your line(s), e.g. 白日依山尽"),
    "xu.form": ("诗体，默认按句长取绝句", "Form (default: the quatrain of that line length)"),
    "jieju.direction": ("接下句还是上句", "The next line or the previous one"),
    "jieju.level": ("题目范围", "Which poems"),
    "jieju.questions": ("题数（默认 5）", "Questions (default 5)"),
    "dir.下": ("下句", "next line"),
    "dir.上": ("上句", "previous line"),
    "jlevel.蒙学": ("蒙学：唐诗三百首、千家诗", "school books: 唐诗三百首, 千家诗"),
    "jlevel.常见": ("常见：有名的诗", "well-known poems"),
    "jlevel.全库": ("全库：整个诗库", "the whole index"),
    "hint": ("飞花令提示", "A 飞花令 hint"),
    "stop": ("结束飞花令", "End the 飞花令 game"),
    "rank": ("飞花令排行", "飞花令 leaderboard"),
    "fhl.token": ("令字：一个或两个汉字，如 月；不填由我出题", "The character (1-2 Han), e.g. 月; empty: I pick"),
    "fhl.mode": ("玩法", "Mode"),
    "fhl.versus": ("和我对战", "Play against me"),
    "fhl.level": ("我的水平（对战）", "My level (versus)"),
    "a.line": ("一句诗，如 举头望明月", "One line of verse, e.g. 举头望明月"),
    "mode.自由": ("自由：令字在哪都行", "free: the character anywhere"),
    "mode.古法": ("古法：第 n 句令字在第 n 字", "classic: at position n in line n"),
    "level.简单": ("简单", "easy"),
    "level.困难": ("困难", "hard"),
    "form.五绝": ("五绝", "五绝 · 5-character quatrain"),
    "form.七绝": ("七绝", "七绝 · 7-character quatrain"),
    "form.五律": ("五律", "五律 · 5-character regulated verse"),
    "form.七律": ("七律", "七律 · 7-character regulated verse"),
}


def _s(key: str) -> locale_str:
    """The Chinese default for ``key``, tagged so the translator can find its English."""
    return locale_str(_TEXT[key][0], key=key)


def fhl_text(token: str | None = None, mode: str | None = None, versus: bool = False,
             level: str | None = None) -> str:
    """The arguments ``/fhl`` options stand for, in the game's own grammar (``月 古法 对战 困难``)."""
    parts = ["".join((token or "").split()), "古法" if mode == "古法" else "", "对战" if versus else "", level or ""]
    return " ".join(p for p in parts if p)


def jieju_text(direction: str | None = None, level: str | None = None, questions: int | None = None) -> str:
    """The arguments ``/jieju`` options stand for, in the game's own grammar (``上 常见 题数=5``)."""
    parts = [direction or "", level or "", f"题数={questions}" if questions else ""]
    return " ".join(p for p in parts if p)


class PoetTranslator(app_commands.Translator):
    """[`Translator`] giving English slash-command text to English-locale clients.

    The Chinese text is the default every other locale sees. Command descriptions come from the chat
    core (``command_descriptions``) when it has them, so ``/help`` and the slash picker agree.
    """

    def __init__(self, en_overrides: Mapping[str, str] | None = None) -> None:
        self._en = {key: en for key, (_, en) in _TEXT.items()} | dict(en_overrides or {})

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        if locale not in EN_LOCALES:
            return None
        text = self._en.get(str(string.extras.get("key", "")))
        return text[:100] if text else None  # Discord's limit for descriptions and choice names


CommandRunner = Callable[[discord.Interaction, CommandOptions], Awaitable[None]]


def register_commands(tree: app_commands.CommandTree, run: CommandRunner,
                      descriptions: Mapping[str, str] | None = None) -> None:
    """Declare the slash commands on ``tree``; each hands its typed options to ``run``.

    ``descriptions`` (command -> Chinese text, from the core's catalogue) replaces the built-in
    Chinese command descriptions, so the slash picker and the Telegram menu say the same thing.
    """
    zh = dict(descriptions or {})

    def _d(name: str) -> locale_str:
        return locale_str(zh[name][:100], key=name) if zh.get(name) else _s(name)

    form_choices = [Choice(name=locale_str(f, key=f"form.{f}"), value=f) for f in FORMS]

    @tree.command(name="poem", description=_d("poem"))
    @app_commands.describe(topic=_s("poem.topic"), form=_s("poem.form"), rhyme=_s("poem.rhyme"),
                           traditional=_s("poem.traditional"))
    @app_commands.choices(form=form_choices)
    async def poem(interaction: discord.Interaction, topic: str, form: Choice[str] | None = None,
                   rhyme: str | None = None, traditional: bool = False) -> None:
        """/poem 秋月 七绝: a poem on a topic, optionally with form, rhyme group and traditional script."""
        await run(interaction, CommandOptions("poem", {"topic": topic, "form": form.value if form else None,
                                                       "rhyme": rhyme, "traditional": traditional}))

    @tree.command(name="ci", description=_d("ci"))
    @app_commands.describe(cipai=_s("ci.cipai"), topic=_s("ci.topic"), rhyme=_s("ci.rhyme"),
                           traditional=_s("poem.traditional"))
    async def ci(interaction: discord.Interaction, cipai: str | None = None, topic: str | None = None,
                 rhyme: str | None = None, traditional: bool = False) -> None:
        """/ci 浣溪沙 秋思: a 词 to a charted 词牌; without one, the list of 词牌."""
        await run(interaction, CommandOptions("ci", {"form": cipai, "topic": topic, "rhyme": rhyme,
                                                     "traditional": traditional}))

    @tree.command(name="cang", description=_d("cang"))
    @app_commands.describe(heads=_s("cang.heads"), form=_s("cang.form"), topic=_s("cang.topic"),
                           traditional=_s("cang.traditional"))
    @app_commands.choices(form=form_choices)
    async def cang(interaction: discord.Interaction, heads: str, form: Choice[str] | None = None,
                   topic: str | None = None, traditional: bool = False) -> None:
        """/cang 春夏秋冬 七绝: an acrostic (藏头诗) with one head character per line."""
        await run(interaction, CommandOptions("acrostic", {"heads": heads, "form": form.value if form else None,
                                                           "topic": topic, "traditional": traditional}))

    @tree.command(name="xu", description=_d("xu"))
    @app_commands.describe(lines=_s("xu.lines"), form=_s("xu.form"))
    @app_commands.choices(form=form_choices)
    async def xu(interaction: discord.Interaction, lines: str, form: Choice[str] | None = None) -> None:
        """/xu 白日依山尽 五绝: the model finishes the user's poem."""
        await run(interaction, CommandOptions("continue", {"lines": lines, "form": form.value if form else None}))

    @tree.command(name="dui", description=_d("dui"))
    @app_commands.describe(line=_s("dui.line"))
    async def dui(interaction: discord.Interaction, line: str) -> None:
        """/dui 白日依山尽: the matching line."""
        await run(interaction, CommandOptions("couplet", {"line": line}))

    @tree.command(name="check", description=_d("check"))
    @app_commands.describe(poem=_s("check.poem"))
    async def check(interaction: discord.Interaction, poem: str) -> None:
        """/check <poem>: prosody report from the checker in the bot process (no queue)."""
        await run(interaction, CommandOptions("check", {"poem": poem}))

    @tree.command(name="rhyme", description=_d("rhyme"))
    @app_commands.describe(char=_s("rhyme.char"))
    async def rhyme(interaction: discord.Interaction, char: str) -> None:
        """/rhyme 行: tones, rhyme groups and famous lines (in the bot process)."""
        await run(interaction, CommandOptions("rhyme", {"char": char}))

    @tree.command(name="yun", description=_d("yun"))
    @app_commands.describe(group=_s("yun.group"))
    async def yun(interaction: discord.Interaction, group: str) -> None:
        """/yun 东: a rhyme group's characters, most used first."""
        await run(interaction, CommandOptions("yun", {"group": group}))

    @tree.command(name="fhl", description=_d("fhl"))
    @app_commands.describe(token=_s("fhl.token"), mode=_s("fhl.mode"), versus=_s("fhl.versus"), level=_s("fhl.level"))
    @app_commands.choices(mode=[Choice(name=locale_str(m, key=f"mode.{m}"), value=m) for m in ("自由", "古法")],
                          level=[Choice(name=locale_str(lv, key=f"level.{lv}"), value=lv) for lv in ("简单", "困难")])
    async def fhl(interaction: discord.Interaction, token: str | None = None, mode: Choice[str] | None = None,
                  versus: bool = False, level: Choice[str] | None = None) -> None:
        """/fhl 月 古法 对战: start 飞花令 (or show the running game)."""
        text = fhl_text(token, mode.value if mode else None, versus, level.value if level else None)
        await run(interaction, CommandOptions("fhl", {"text": text}))

    @tree.command(name="jieju", description=_d("jieju"))
    @app_commands.describe(direction=_s("jieju.direction"), level=_s("jieju.level"), questions=_s("jieju.questions"))
    @app_commands.choices(direction=[Choice(name=locale_str(d, key=f"dir.{d}"), value=d) for d in ("下", "上")],
                          level=[Choice(name=locale_str(lv, key=f"jlevel.{lv}"), value=lv) for lv in ("蒙学", "常见", "全库")])
    async def jieju(interaction: discord.Interaction, direction: Choice[str] | None = None,
                    level: Choice[str] | None = None, questions: app_commands.Range[int, 1, 20] | None = None) -> None:
        """/jieju 上 常见: a round of 接句."""
        text = jieju_text(direction.value if direction else None, level.value if level else None, questions)
        await run(interaction, CommandOptions("jieju", {"text": text}))

    @tree.command(name="cai", description=_d("cai"))
    @app_commands.describe(length=_s("cai.length"))
    async def cai(interaction: discord.Interaction, length: app_commands.Range[int, 5, 7] | None = None) -> None:
        """/cai 7: a game of 猜诗句."""
        await run(interaction, CommandOptions("cai", {"text": str(length) if length in (5, 7) else ""}))

    @tree.command(name="a", description=_d("a"))
    @app_commands.describe(line=_s("a.line"))
    async def answer(interaction: discord.Interaction, line: str) -> None:
        """/a 举头望明月: answer in the running game."""
        await run(interaction, CommandOptions("answer", {"text": line}))

    def simple(name: str) -> None:  # the slash name is the canonical command name
        async def callback(interaction: discord.Interaction) -> None:
            await run(interaction, CommandOptions(name))

        callback.__doc__ = f"/{name}: no options; the core answers directly."
        tree.command(name=name, description=_d(name))(callback)

    for name in ("hint", "stop", "rank", "queue", "cancel", "forms", "help"):
        simple(name)
