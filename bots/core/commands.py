"""The one command parser shared by every front-end.

Grammar (tokens in any order after the command word; Chinese and English aliases)::

    /poem 秋月 七绝 [韵=东|rhyme=东|押东韵] [繁|trad]     a poem on a topic (form defaults)
    /poem 秋月 七绝 仄韵 | 韵=鸟                           a 仄韵 绝句 (a 仄声 group or character)
    /ci 浣溪沙 秋思 [部=7|韵=东] [繁]                       a 词 to a charted 词牌 (/ci alone lists them);
                                                          /poem 秋思 浣溪沙 is the same
    /cang 春夏秋冬 [七绝] [主题] [韵=东] [繁]              藏头诗: one head character per line
    /check [七律] <poem>                                  prosody check, text kept verbatim
    /card (replying to one of the bot's poems)            the poem as a picture card
    /forms  /help  /start  /queue  /cancel

Prefixes ``/`` ``!`` (and full-width ``／`` ``！``) work everywhere; a few Chinese words
(``作诗 秋月``) work as plain text, because Telegram only accepts Latin command names.
``/poem@otherbot`` and ``@otherbot ...`` are ignored, so several bots can share a group.

A platform that hands over its options typed (Discord's slash commands) gets its command from
`build_command`, by the same rules and with the same refusals, without writing them into a text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from bots.core.messages import lang, t
from poetcore.errors import PoetcoreInputError, UnknownFormError
from poetcore.prosody.cipu import nearest_cipai
from poetcore.prosody.forms import FORMS, ZE_RHYME_FORMS, couplet_for, get_form
from poetcore.prosody.rhyme_choice import BU_PREFIX, resolve_rhyme, ze_form_of
from poetcore.prosody.rhymes import RhymeTable
from poetcore.request import MAX_TOPIC_CHARS, validate_heads, validate_prefix
from poetcore.text.chars import is_han, to_simplified

__all__ = [
    "COMMAND_ALIASES",
    "ECHO_LIMIT",
    "GAME_COMMAND_NAMES",
    "Command",
    "CommandError",
    "CommandOptions",
    "Limits",
    "build_command",
    "parse_command",
    "safe_echo",
    "supported_forms",
]

COMMAND_ALIASES: dict[str, tuple[str, ...]] = {
    "poem": ("poem", "shi", "作诗", "写诗", "诗"),
    "ci": ("ci", "填词", "词牌"),
    "acrostic": ("cang", "acrostic", "藏头", "藏头诗"),
    "continue": ("xu", "continue", "续写", "续诗"),
    "couplet": ("dui", "couplet", "对句"),
    "check": ("check", "检查", "格律", "检查格律"),
    "card": ("card", "诗卡", "生成图片"),
    "rhyme": ("rhyme", "查韵"),
    "yun": ("yun", "韵部"),
    "forms": ("forms", "诗体", "体裁"),
    "help": ("help", "帮助"),
    "queue": ("queue", "排队", "队列"),
    "cancel": ("cancel", "取消"),
    "start": ("start", "开始"),
    "fhl": ("fhl", "feihua", "飞花令", "飞花"),
    "answer": ("a", "answer", "答"),
    "hint": ("hint", "提示"),
    "stop": ("stop", "结束", "停止"),
    "rank": ("rank", "排行", "排行榜"),
    "jieju": ("jieju", "接句"),
    "cai": ("cai", "猜诗", "猜诗句"),
}
"""Canonical command -> accepted names. The first name is the one registered with the platforms."""

_BY_ALIAS = {alias.lower(): name for name, aliases in COMMAND_ALIASES.items() for alias in aliases}

# Plain-text triggers (no prefix). In groups only the ones that clearly ask for a poem count, so an
# ordinary "取消" said to a person does not make the bot talk.
_PLAIN_PRIVATE = frozenset(a for aliases in COMMAND_ALIASES.values() for a in aliases if not a.isascii())
_PLAIN_GROUP = frozenset({"作诗", "写诗", "填词", "藏头诗", "藏头", "飞花令", "接句", "续写", "对句", "猜诗句"})

_PREFIXES = ("/", "!", "／", "！")
GAME_COMMAND_NAMES = frozenset({"fhl", "jieju", "cai", "answer", "hint", "stop", "rank"})
"""The commands the games answer (`GameService.commands`); their arguments stay in ``Command.text``."""
_HEAD_RE = re.compile(r"^(\S+)(?:\s+(.*))?$", re.DOTALL)
_MENTION_RE = re.compile(r"^@(\w+)\s*(.*)$", re.DOTALL)
_TOKEN_SPLIT_RE = re.compile(r"[\s，,、；;]+")
_OPTION_RE = re.compile(r"^([^=＝:：]+)[=＝:：](.*)$")
_OPTION_SPACES_RE = re.compile(r"\s*([=＝:：])\s*")
_YA_YUN_RE = re.compile(r"^押(.{1,5})[韵韻]$")
_STRIP_CHARS = "《》「」『』“”‘’\"'。！？!?.…·"
# Things a user means as a form but that we do not write (五古, 七言排律, 绝句 ...): answered with the
# list of supported forms instead of being taken as part of the topic.
_FORM_LIKE_RE = re.compile(r"^(?:[一-龥]{0,3}(?:绝句|律诗|排律|古诗|古体|古风)|[三四五六七八九]言.{0,3}|[四六八九][绝律]|[五七]古)$")

_RHYME_KEYS = frozenset({"韵", "韻", "押韵", "韵部", "部", "rhyme", "yun", "bu"})
_ZE_FLAGS = frozenset({"仄韵", "仄韻", "仄声韵", "押仄韵", "ze"})
_FORM_KEYS = frozenset({"体", "體", "诗体", "体裁", "form"})
_TRAD_FLAGS = frozenset({"繁", "繁体", "繁體", "正体", "trad", "traditional", "zh-hant"})
_SIMP_FLAGS = frozenset({"简", "简体", "simp", "simplified", "zh-hans"})


@dataclass(frozen=True)
class Limits:
    """Input limits: enforced here so abusive input never reaches the queue (let alone the GPU)."""

    max_message_chars: int = 300  # whole message, /check included (a 七律 with punctuation is ~64)
    max_topic_chars: int = MAX_TOPIC_CHARS  # the composer's own topic limit, in Han characters


@dataclass(frozen=True)
class Command:
    """A parsed command. ``name`` is canonical: poem acrostic check forms help queue cancel start, and
    the games' fhl answer hint stop rank (whose arguments stay in ``text`` for the game to parse)."""

    name: str
    topic: str | None = None
    form: str | None = None  # canonical form name, e.g. "七绝" (filled with the default for poem/acrostic)
    heads: str | None = None  # 藏头 characters, one per line
    rhyme: str | None = None  # 平水韵 group label ("东", "筿" for 韵=鸟), or 词林正韵 部 ("部7") for a 词
    traditional: bool = False
    text: str | None = None  # /check body, verbatim


ECHO_LIMIT = 20
"""Characters of the user's own input an error message may quote back."""
_MARKUP = frozenset("*_~`|[]()<>#@\\")  # Discord markdown, masked links, mentions; Telegram HTML


def safe_echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """The user's text as the bot may quote it: no control, format (bidi) or surrogate characters and
    no markup, so an error reply can neither garble the chat nor speak a link or @everyone in the
    bot's voice."""
    kept = []
    for ch in text:
        if ch in _MARKUP or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        kept.append(ch)
    clean = "".join(kept).replace("://", " ")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class CommandError(Exception):
    """A parse error a user can fix: a catalogue key plus its parameters (lists joined per language).

    Text parameters are the user's own input quoted back, so they pass through `safe_echo`.
    """

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = {k: safe_echo(v) if isinstance(v, str) else v for k, v in params.items()}

    def message(self, locale: str | None = None) -> str:
        sep = ", " if lang(locale) == "en" else "、"
        params = {k: sep.join(v) if isinstance(v, list | tuple) else v for k, v in self.params.items()}
        return t(self.key, locale, **params)


@cache
def supported_forms() -> tuple[str, ...]:
    """Canonical names of the forms poetcore can write, in its own order."""
    return tuple(FORMS)


def _resolve_form(token: str) -> str | None:
    """Canonical form name for a name or alias, or None when the token is not a form."""
    try:
        return get_form(token).name
    except (UnknownFormError, KeyError, ValueError):
        return None


def _form_lines(name: str) -> tuple[int, int]:
    form = get_form(name)
    return form.n_lines, form.line_length


_RHYME_ERRORS = {  # engine code (`poetcore.prosody.rhyme_choice`) -> catalogue key
    "unknown_rhyme": "err_rhyme_unknown", "rhyme_ze_form": "err_rhyme_ze", "rhyme_tone": "err_rhyme_ping",
    "rhyme_ambiguous": "err_rhyme_ambiguous", "unknown_bu": "err_bu_unknown", "bu_tone": "err_bu_tone",
}


def _resolve_rhyme(value: str, form: str) -> tuple[str, str]:
    """(the form to write, a key naming the rhyme) for a user's rhyme choice: the engine's rule
    (`resolve_rhyme`: a 仄声 choice makes a 绝句 仄韵), worded by the catalogue."""
    table = RhymeTable.default()
    try:
        template, key = resolve_rhyme(value, get_form(form), table)
    except PoetcoreInputError as exc:
        raise CommandError(_RHYME_ERRORS.get(exc.code, "err_rhyme_unknown"), rhyme=value, form=form,
                           groups=[table.group_label(g) for g in table.ping_group_ids()],
                           options=[table.group_label(g) for g in _readings(value, table)]) from exc
    return template.name, key


def _readings(value: str, table: RhymeTable) -> list[str]:
    ch = to_simplified(value.strip())
    return sorted(table.groups(ch)) if len(ch) == 1 else []


def _split_command(text: str, bot_username: str | None, is_group: bool) -> tuple[str, str, str] | None:
    """(canonical name, the word the user typed, body) or None when the text is not for us."""
    text = text.strip()
    mention = _MENTION_RE.match(text)
    if mention:
        if not bot_username or mention.group(1).lower() != bot_username.lower():
            return None
        text = mention.group(2).strip()
    head = _HEAD_RE.match(text)
    if head is None:
        return None
    word, body = head.group(1), head.group(2) or ""
    if word.startswith(_PREFIXES):
        name, _, addressee = word[1:].partition("@")
        if addressee and (not bot_username or addressee.lower() != bot_username.lower()):
            return None
        canonical = _BY_ALIAS.get(name.lower())
        if canonical is None:
            # Unknown "/foo" in a group is most likely for another bot: stay quiet there.
            if word[0] in "/／" and name and (not is_group or addressee):
                raise CommandError("err_unknown_command", command=word)
            return None
        return canonical, word, body
    plain = _PLAIN_GROUP if is_group and not mention else _PLAIN_PRIVATE
    if word in plain:
        return _BY_ALIAS[word], word, body
    return None


def _check_han(token: str, *, key: str) -> None:
    bad = "".join(ch for ch in token if not is_han(ch))
    if not bad:
        return
    if key == "err_topic_not_han" and token.isascii() and any(ch.isalpha() for ch in token):
        raise CommandError("err_topic_latin", bad=token)
    raise CommandError(key, bad=token)


def _peel_form(token: str) -> tuple[str, str | None]:
    """Split a form name glued to a word ("秋月七绝" -> ("秋月", "七绝")); else (token, None)."""
    for name in supported_forms():
        if len(token) > len(name) and token.endswith(name):
            return token[: -len(name)], name
        if len(token) > len(name) and token.startswith(name):
            return token[len(name) :], name
    return token, None


@dataclass
class _Options:
    words: list[str]
    form: str | None = None
    rhymes: list[str] = field(default_factory=list)  # as written: resolved once the form is known
    traditional: bool = False
    ze: bool = False  # 仄韵 asked for by name


@dataclass(frozen=True)
class _Typed:
    """Values a platform typed for us (`build_command`): they join what the text says, under its rules."""

    form: str | None = None  # canonical
    rhyme: str | None = None  # as typed, resolved like ``韵=…``
    traditional: bool = False
    heads: str | None = None


_UNTYPED = _Typed()


def _parse_options(body: str, typed: _Typed = _UNTYPED) -> _Options:
    """Sort the tokens of /poem and /cang into options (form, rhyme, script) and plain words."""
    opts = _Options(words=[], traditional=typed.traditional)
    forms: list[str] = []
    rhymes: list[str] = []
    for raw in _TOKEN_SPLIT_RE.split(_OPTION_SPACES_RE.sub(r"\1", body)):
        token = raw.strip(_STRIP_CHARS)
        if not token:
            continue
        option = _OPTION_RE.match(token)
        ya_yun = _YA_YUN_RE.match(token)
        low = token.lower()
        if option:
            key, value = option.group(1).strip().lower(), option.group(2).strip()
            if key not in _RHYME_KEYS | _FORM_KEYS:
                raise CommandError("err_unknown_option", option=token)
            if not value:
                raise CommandError("err_option_empty", option=option.group(1).strip())
            if key in _RHYME_KEYS:
                rhymes.append(value)
            else:
                form = _resolve_form(value)
                if form is None:
                    raise CommandError("err_unknown_form", form=value, forms=list(supported_forms()))
                forms.append(form)
        elif low in _ZE_FLAGS:
            opts.ze = True
        elif ya_yun:
            rhymes.append(ya_yun.group(1))
        elif low in _TRAD_FLAGS:
            opts.traditional = True
        elif low in _SIMP_FLAGS:
            opts.traditional = False
        elif (form := _resolve_form(token)) is not None:
            forms.append(form)
        elif _FORM_LIKE_RE.match(token):
            raise CommandError("err_unknown_form", form=token, forms=list(supported_forms()))
        else:
            word, glued = _peel_form(token)
            if glued:
                forms.append(glued)
            opts.words.append(word)
    if typed.form:
        forms.append(typed.form)
    if typed.rhyme:
        rhymes.append(typed.rhyme)
    if len(set(forms)) > 1:
        raise CommandError("err_form_conflict", forms=list(dict.fromkeys(forms)))
    opts.form = forms[0] if forms else None
    opts.rhymes = list(dict.fromkeys(rhymes))
    return opts


def _settle_rhyme(opts: _Options, form: str) -> tuple[str, str | None]:
    """(form, rhyme) once the form is known: each rhyme the user wrote must name the same one, and
    仄韵 (by name or by a 仄声 rhyme) turns a 绝句 into a 仄韵 绝句."""
    if opts.ze:
        twin = ze_form_of(get_form(form))
        if twin is None and form not in ZE_RHYME_FORMS:
            raise CommandError("err_rhyme_ze", rhyme="仄韵", form=form, groups=[], options=[])
        form = twin.name if twin else form
    resolved = {raw: _resolve_rhyme(raw, form) for raw in opts.rhymes}
    if len({key for _, key in resolved.values()}) > 1:
        raise CommandError("err_rhyme_conflict", rhymes=list(resolved))
    if not resolved:
        return form, None
    form, key = next(iter(resolved.values()))
    return form, key if key.startswith(BU_PREFIX) else RhymeTable.default().group_label(key)


def _topic(words: Sequence[str], limits: Limits, *, required: bool) -> str | None:
    for word in words:
        _check_han(word, key="err_topic_not_han")
    topic = "".join(words)
    if not topic:
        if required:
            raise CommandError("err_topic_missing")
        return None
    if len(topic) > limits.max_topic_chars:
        raise CommandError("err_topic_too_long", length=len(topic), limit=limits.max_topic_chars)
    return topic


def _acrostic_form(heads: str, form: str | None, default_form: str) -> str:
    """The form for an acrostic: the one asked for, else the default, else one with as many lines.

    Whether the heads fit it is the engine's rule (`validate_heads`: Han characters, one per line);
    this only words its refusal, with an example.
    """
    count = len(heads)
    chosen = form or _form_with_lines(count, default_form)
    try:
        validate_heads(heads, get_form(chosen or default_form))
    except PoetcoreInputError as exc:
        if exc.code == "heads_not_chinese":
            raise CommandError("err_heads_not_han", bad=heads) from exc
        if chosen is None:
            counts = sorted({_form_lines(f)[0] for f in supported_forms()})
            raise CommandError("err_heads_count_any", counts=[str(c) for c in counts], count=count,
                               heads=heads) from exc
        n_lines, length = _form_lines(chosen)
        example = next((f for f in supported_forms() if _form_lines(f) == (4, length)), chosen)
        raise CommandError(
            "err_heads_count", form=chosen, n_lines=n_lines, count=count, heads=heads, example_form=example
        ) from exc
    assert chosen is not None, "heads that fit the default form choose it"
    return chosen


def _form_with_lines(count: int, default_form: str) -> str | None:
    """The default form when it has ``count`` lines, else one that has (None: no form has)."""
    default_lines, default_len = _form_lines(default_form)
    if default_lines == count:
        return default_form
    same_count = [f for f in supported_forms() if _form_lines(f)[0] == count]
    # Prefer the default's line length: 七绝 by default, so 8 heads give a 七律.
    return next((f for f in same_count if _form_lines(f)[1] == default_len), same_count[0] if same_count else None)


def parse_command(
    text: str,
    *,
    default_form: str = "七绝",
    bot_username: str | None = None,
    is_group: bool = False,
    limits: Limits = Limits(),
) -> Command | None:
    """Parse one chat message. None when it is not a command for this bot; CommandError when it is
    one but malformed (the error carries a message with an example)."""
    split = _split_command(text, bot_username, is_group)
    if split is None:
        return None
    name, _word, body = split
    if len(text) > limits.max_message_chars:
        raise CommandError("err_too_long", length=len(text), limit=limits.max_message_chars)
    return _command(name, body, _UNTYPED, default_form, limits)


def _command(name: str, body: str, typed: _Typed, default_form: str, limits: Limits) -> Command:
    """One command from its canonical name, its text arguments and the values typed for it."""
    if name == "poem":
        opts = _parse_options(body, typed)
        form, rhyme = _settle_rhyme(opts, opts.form or default_form)
        theme = _topic(opts.words, limits, required=not get_form(form).is_ci) or form  # /poem 长相思
        return Command("poem", topic=theme, form=form, rhyme=rhyme, traditional=opts.traditional)
    if name == "ci":
        return _parse_ci(body, typed, limits)
    if name == "acrostic":
        opts = _parse_options(body, typed)
        if typed.heads is not None:  # typed apart from the topic: the heads come first
            opts.words = [typed.heads, *opts.words] if typed.heads else []
        if not opts.words:
            raise CommandError("err_heads_missing")
        heads = opts.words[0]
        form = _acrostic_form(heads, opts.form, default_form)
        form, rhyme = _settle_rhyme(opts, form)
        topic = _topic(opts.words[1:], limits, required=False)
        return Command("acrostic", topic=topic, form=form, heads=heads, rhyme=rhyme, traditional=opts.traditional)
    if name == "check":
        return _parse_check(body)
    if name == "continue":
        return _parse_continue(body, typed.form)
    if name == "couplet":
        return _parse_couplet(body)
    if name in GAME_COMMAND_NAMES:
        return Command(name, text=body.strip())
    if name in ("rhyme", "yun"):
        word = body.strip()
        if not word:
            raise CommandError("err_rhyme_missing" if name == "rhyme" else "err_yun_missing")
        if name == "rhyme" and (len(word) != 1 or not is_han(word)):
            raise CommandError("err_rhyme_one_char")
        return Command(name, text=word)
    return Command(name)


def _parse_ci(body: str, typed: _Typed, limits: Limits) -> Command:
    """``/ci 浣溪沙 秋思``: a 词 to a charted 词牌, the rest as for /poem; ``/ci`` alone lists the 词牌."""
    opts = _parse_options(body, typed)
    if opts.form is None:
        if not opts.words and not opts.rhymes:
            return Command("ci_list")
        near = next((found for word in opts.words if (found := nearest_cipai(word))), [])
        word = next((w for w in opts.words if nearest_cipai(w)), opts.words[0] if opts.words else "")
        raise CommandError("err_ci_unknown" if near else "err_ci_missing", cipai=word, near=near)
    if not get_form(opts.form).is_ci:
        raise CommandError("err_ci_shi", form=opts.form)
    form, rhyme = _settle_rhyme(opts, opts.form)
    topic = _topic(opts.words, limits, required=False) or form
    return Command("poem", topic=topic, form=form, rhyme=rhyme, traditional=opts.traditional)


def _parse_continue(body: str, typed_form: str | None = None) -> Command:
    """``/xu 白日依山尽 [五绝]``: the user's lines and the form, inferred from the line length when not
    given (5 -> 五绝, 7 -> 七绝).

    A token is a form name or a line of Han characters (anything else is refused here, as for
    topics); whether the lines fit the form is the engine's rule (`validate_prefix`), worded here.
    """
    forms: list[str] = []
    lines: list[str] = []
    for raw in _TOKEN_SPLIT_RE.split(body.replace("。", "，")):
        token = raw.strip(_STRIP_CHARS)
        if not token:
            continue
        form = _resolve_form(token)
        if form is not None:
            forms.append(form)
            continue
        _check_han(token, key="err_prefix_not_han")
        lines.append(token)
    if typed_form:
        forms.append(typed_form)
    if not lines:
        raise CommandError("err_prefix_missing")
    if len(set(forms)) > 1:
        raise CommandError("err_form_conflict", forms=list(dict.fromkeys(forms)))
    length = len(to_simplified(lines[0]))
    form = forms[0] if forms else next((f for f in supported_forms() if _form_lines(f) == (4, length)), None)
    if form is None:
        raise CommandError("err_prefix_length", length=length)
    template = get_form(form)
    try:
        prefix = validate_prefix(lines, template)
    except PoetcoreInputError as exc:
        if exc.code == "prefix_too_long":
            raise CommandError("err_prefix_full", form=form, n_lines=template.n_lines, count=len(lines)) from exc
        # A line of the wrong length: name the first, as the engine's own message does.
        simplified = [to_simplified(line) for line in lines]
        i, line = next(((i, s) for i, s in enumerate(simplified, start=1) if len(s) != template.line_length),
                       (1, simplified[0]))
        raise CommandError("err_prefix_line", form=form, n=template.line_length, i=i, line=line,
                           length=len(line)) from exc
    return Command("continue", form=form, text="，".join(prefix))


def _parse_couplet(body: str) -> Command:
    """``/dui 白日依山尽``: one line of five or seven Han characters (a form name beside it is ignored:
    the line's length decides), refused in 对句's own words."""
    lines: list[str] = []
    for raw in _TOKEN_SPLIT_RE.split(body.replace("。", "，")):
        token = raw.strip(_STRIP_CHARS)
        if token and _resolve_form(token) is None:
            _check_han(token, key="err_couplet_not_han")
            lines.append(to_simplified(token))
    if not lines:
        raise CommandError("err_couplet_missing")
    if len(lines) > 1:
        raise CommandError("err_couplet_one_line")
    try:
        form = couplet_for(len(lines[0]))
    except UnknownFormError as exc:
        raise CommandError("err_couplet_length", length=len(lines[0])) from exc
    return Command("couplet", form=form.name, text=lines[0])


def _parse_check(body: str) -> Command:
    body = body.strip()
    if not body:
        raise CommandError("err_check_missing")
    head = _HEAD_RE.match(body)
    form = None
    if head and head.group(2):
        form = _resolve_form(head.group(1))
        if form is not None:
            body = head.group(2).strip()
    return Command("check", form=form, text=body)


@dataclass(frozen=True)
class CommandOptions:
    """A command a platform hands over typed (Discord's slash options) instead of as one text.

    ``name`` is the canonical command (a `COMMAND_ALIASES` key). ``values`` holds its options by
    name: ``form`` (a form name), ``rhyme`` (a rhyme group), ``traditional`` and ``heads`` are taken
    as they are; the free text of a command (``topic`` of poem and acrostic, ``lines`` of continue,
    ``line`` of couplet, ``poem`` of check, ``char``/``group`` of rhyme/yun, ``text`` of a game)
    is read by the same grammar as a typed message.
    """

    name: str
    values: Mapping[str, str | int | bool | None] = field(default_factory=dict)


_FREE_TEXT = {"poem": "topic", "ci": "topic", "acrostic": "topic", "continue": "lines", "couplet": "line", "check": "poem",
              "rhyme": "char", "yun": "group"}


def build_command(options: CommandOptions, *, default_form: str = "七绝", limits: Limits = Limits()) -> Command:
    """The command for typed options, by the rules and with the errors of `parse_command`.

    Nothing is turned back into text: the typed values join what the free text says, so a form
    chosen in a menu and one written in the topic meet the same conflict rule, and every refusal
    is worded as for a typed message.
    """
    values = options.values
    name = options.name

    def text(key: str) -> str:
        value = values.get(key)
        return value.strip() if isinstance(value, str) else ""

    size = sum(len(v) for v in values.values() if isinstance(v, str))
    if size > limits.max_message_chars:
        raise CommandError("err_too_long", length=size, limit=limits.max_message_chars)
    form = None
    if text("form"):
        form = _resolve_form(text("form"))
        if form is None and name == "ci":
            near = nearest_cipai(text("form"))
            raise CommandError("err_ci_unknown" if near else "err_ci_missing", cipai=text("form"), near=near)
        if form is None:
            raise CommandError("err_unknown_form", form=text("form"), forms=list(supported_forms()))
    rhyme = "".join(text("rhyme").split())
    for key in ("韵=", "部=", "rhyme="):
        rhyme = rhyme.removeprefix(key)
    heads = None
    if "heads" in values:
        heads = "".join(_TOKEN_SPLIT_RE.split(text("heads"))).strip(_STRIP_CHARS)
    typed = _Typed(form=form, rhyme=rhyme or None, traditional=values.get("traditional") is True, heads=heads)
    if name in GAME_COMMAND_NAMES:
        return Command(name, text=text("text"))
    if name not in COMMAND_ALIASES:
        raise CommandError("err_unknown_command", command=f"/{name}")
    return _command(name, text(_FREE_TEXT.get(name, "text")), typed, default_form, limits)
