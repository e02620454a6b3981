"""Poem cards: every form drawn (traditional too) with the real font, its glyphs checked against the
font's own cmap, the layout read back from the pixels, the poem read back from the bot's message,
and /card through the chat core, with and without a font."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from bots.core.cards import (
    CAPTION_LIMIT,
    CardFont,
    CardFontMissing,
    CardPoem,
    CardStyle,
    MissingGlyphs,
    PoemCards,
    card_columns,
    find_font,
    load_font,
    read_poem_message,
    render_card,
)
from bots.core.chat import ChatCore
from bots.core.commands import parse_command
from bots.core.format import render_poem
from bots.core.messages import t
from bots.core.models import IncomingMessage
from bots.core.settings import BotSettings
from poetcore.paths import asset_path
from poetcore.text.chars import is_han, to_traditional
from worker.contract.protocol import PoemPayload, PoemReply, PoemRequest

MAX_BYTES = 200 * 1024  # the bound for a 七律 card; every form is held to it

POEMS: dict[str, dict[str, object]] = {
    "五绝": {"title": "登鹳雀楼", "lines": ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"], "form": "五绝",
             "rhyme_group": "尤"},
    "七绝": {"title": "秋月", "lines": ["碧落清辉照九州", "寒光万里动商秋", "谁家玉笛飞声远", "一夜乡心到白头"],
             "form": "七绝", "rhyme_group": "尤"},
    "五律": {"title": "春望", "lines": ["国破山河在", "城春草木深", "感时花溅泪", "恨别鸟惊心", "烽火连三月", "家书抵万金",
                                      "白头搔更短", "浑欲不胜簪"], "form": "五律", "rhyme_group": "侵"},
    "七律": {"title": "登高", "lines": ["风急天高猿啸哀", "渚清沙白鸟飞回", "无边落木萧萧下", "不尽长江滚滚来",
                                      "万里悲秋常作客", "百年多病独登台", "艰难苦恨繁霜鬓", "潦倒新停浊酒杯"],
             "form": "七律", "rhyme_group": "灰"},
    "词": {"title": "春晚", "lines": ["常记溪亭日暮", "沉醉不知归路", "兴尽晚回舟", "误入藕花深处", "争渡", "争渡",
                                    "惊起一滩鸥鹭"], "form": "如梦令", "rhyme_group": "第四部仄", "marks": "。。，。，，。",
           "kind": "词"},
}


def payload(name: str, traditional: bool = False) -> PoemPayload:
    poem = dict(POEMS[name])
    if traditional:
        poem["lines"] = [to_traditional(str(line)) for line in poem["lines"]]  # type: ignore[union-attr]
        poem["title"] = to_traditional(str(poem["title"]))
    return PoemPayload(text="", traditional=traditional, **poem)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def font() -> CardFont:
    return load_font(find_font())


@pytest.fixture(scope="module")
def cmap(font: CardFont) -> set[int]:
    """The font's own cmap, read here with fontTools, not through the code under test."""
    with TTFont(str(font.path), lazy=True) as tt:
        return set(tt.getBestCmap())


def ink_bands(png: bytes, dark: int = 90) -> list[tuple[int, int, int, int]]:
    """(left, right, top, bottom) of each vertical band of ink (near-black) pixels, right to left.

    The title and the note are a lighter grey, the frame and the seal red: only the poem is ink.
    """
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    ink = rgb.max(axis=2) < dark  # (H, W)
    inked = ink.any(axis=0)  # (W,)
    bands, start = [], None
    for x in range(len(inked) + 1):
        here = x < len(inked) and bool(inked[x])
        if here and start is None:
            start = x
        elif not here and start is not None:
            rows = np.flatnonzero(ink[:, start:x].any(axis=1))
            bands.append((start, x - 1, int(rows[0]), int(rows[-1])))
            start = None
    return bands[::-1]


# --- every form, both scripts ---------------------------------------------------------------------


@pytest.mark.parametrize("traditional", [False, True], ids=["简", "繁"])
@pytest.mark.parametrize("name", list(POEMS))
def test_every_form_renders_a_small_png_with_no_missing_glyph(name: str, traditional: bool, font: CardFont,
                                                              cmap: set[int]) -> None:
    card = CardPoem.from_payload(payload(name, traditional))
    written = card.title + "".join(card.lines) + card.note
    assert all(ord(ch) in cmap for ch in written if not ch.isspace()), [ch for ch in written if ord(ch) not in cmap]
    png = render_card(card, font)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < MAX_BYTES, len(png)
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
        assert image.format == "PNG" and 400 < width < 3000 and 400 < height < 2000
        seal = np.asarray(image.convert("RGB").crop((0, height // 2, width // 3, height))).astype(int)  # bottom left
        red = (seal[..., 0] > 150) & (seal[..., 1] < 80) & (seal[..., 2] < 80)
        assert red.sum() > 6000  # the seal (96 x 96) is there, not just the frame's lines
    if traditional:
        assert card.note.startswith(to_traditional(str(POEMS[name]["form"])))  # 七絕: the note follows the script


@pytest.mark.parametrize("name", ["五绝", "七律"])
def test_a_shi_is_one_column_per_line_right_to_left(name: str, font: CardFont) -> None:
    poem = POEMS[name]
    lines = poem["lines"]
    assert isinstance(lines, list)
    bands = ink_bands(render_card(CardPoem.from_payload(payload(name)), font))
    assert len(bands) == len(lines)  # the title and the note are light: only the poem is ink
    style = CardStyle()
    for left, right, top, bottom in bands:
        assert right - left < style.glyph * 1.1  # one character wide ...
        assert bottom - top > style.glyph * style.row * (len(lines[0]) - 1)  # ... as tall as the line
    assert [b[0] for b in bands] == sorted((b[0] for b in bands), reverse=True)


def test_a_ci_is_set_a_sentence_a_column_with_its_marks(font: CardFont) -> None:
    card = CardPoem.from_payload(payload("词"))
    columns = card_columns(card, CardStyle().column_cells)
    # 兴尽晚回舟，误入藕花深处。 and 争渡，争渡，惊起一滩鸥鹭。 are longer than a column: they wrap at a comma
    assert columns == ["常记溪亭日暮︒", "沉醉不知归路︒", "兴尽晚回舟︐", "误入藕花深处︒", "争渡︐争渡︐", "惊起一滩鸥鹭︒"]
    bands = ink_bands(render_card(card, font))
    assert len(bands) == 6
    heights = [bottom - top for _, _, top, bottom in bands]
    # The columns of 6 cells (a comma last, high in its cell) are the shorter ones, in the poem's order.
    assert [h < min(heights) + CardStyle().glyph // 2 for h in heights] == [False, False, True, False, True, False]
    assert card.caption.splitlines()[1:5] == ["常记溪亭日暮。", "沉醉不知归路。", "兴尽晚回舟，误入藕花深处。",
                                              "争渡，争渡，惊起一滩鸥鹭。"]


def test_every_bmp_character_the_model_can_write_has_a_glyph_in_both_scripts(cmap: set[int]) -> None:
    """The shipped model's vocabulary against the font: only rare astral characters (CJK Ext. B and
    beyond) may lack a glyph, and those poems go out as text (next test)."""
    vocab = json.loads(asset_path("model", "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    chars = [ch for ch in vocab if len(ch) == 1 and is_han(ch)]
    assert len(chars) > 8000
    both = set(chars) | set(to_traditional("".join(chars)))
    missing = sorted(ch for ch in both if ord(ch) not in cmap)
    assert [ch for ch in missing if ord(ch) <= 0xFFFF] == []
    assert len(missing) < 0.04 * len(chars)


async def test_a_character_the_font_lacks_sends_the_text_naming_it(font: CardFont) -> None:
    odd = "𠜱"  # CJK Ext. B, in the model's vocabulary, not in Noto Serif SC
    assert ord(odd) not in font.cmap
    poem = dict(POEMS["五绝"], lines=["白日依山" + odd, "黄河入海流", "欲穷千里目", "更上一层楼"])
    card = CardPoem.from_payload(PoemPayload(text="", **poem))  # type: ignore[arg-type]
    with pytest.raises(MissingGlyphs) as info:
        render_card(card, font)
    assert info.value.chars == odd
    out = await PoemCards().message(card, chat_id="c1", reply_to="7", locale=None)
    assert out.image is None and out.reply_to_message_id == "7"
    assert out.text == t("card_no_glyph", None, chars=odd, poem=card.caption)


# --- the poem read back from the bot's own message --------------------------------------------------


@pytest.mark.parametrize("locale", [None, "en"])
@pytest.mark.parametrize("traditional", [False, True], ids=["简", "繁"])
@pytest.mark.parametrize("name", list(POEMS))
def test_a_poem_message_reads_back_as_the_card_of_its_poem(name: str, traditional: bool, locale: str | None) -> None:
    poem = payload(name, traditional)
    card = CardPoem.from_payload(poem, locale)
    text = render_poem(title=poem.title, lines=poem.lines, form=poem.form, rhyme=poem.rhyme_group, locale=locale,
                       traditional=traditional, marks=poem.marks)
    assert card.caption == text
    assert read_poem_message(text) == card
    assert read_poem_message(text + "\n\n" + "你写的第 1 句：第 2 字应平") == card  # a 续写's faults are not the poem
    assert card.traditional is traditional and card.is_ci is (name == "词")
    assert card.note == (to_traditional if traditional else str)(
        f"{poem.form}　" + ("词林正韵" if name == "词" else "平水韵") + poem.rhyme_group + ("" if name == "词" else "韵"))


@pytest.mark.parametrize("text", [
    None, "", "你好", "《秋月》", "/check 床前明月光，疑是地上霜。",
    t("couplet_reply", None, first="白日依山尽", second="黄河入海流", rhyme="尤"),
    "《秋月》\n碧落清辉照九州，\n寒光万里动商秋。\n\n—— 七绝 · 平水韵尤韵",  # two lines: no 七绝
    "《秋月》\nabc，\n寒光万里动商秋。\n谁家玉笛飞声远，\n一夜乡心到白头。\n\n—— 七绝 · 平水韵尤韵",
    "《秋月》\n碧落清辉照九州，\n寒光万里动商秋。\n谁家玉笛飞声远，\n一夜乡心到白头。\n\n—— 九绝 · 平水韵尤韵",
    "《秋月》\n碧落清辉照九州，\n寒光万里动商秋。\n谁家玉笛飞声远，\n一夜乡心到白头。\n\n平水韵尤韵",
])
def test_anything_else_is_not_a_poem(text: str | None) -> None:
    assert read_poem_message(text) is None


def test_a_poem_without_rhyme_and_a_ze_rhymed_quatrain_read_back() -> None:
    plain = render_poem(title="", lines=POEMS["五绝"]["lines"], form="五绝", rhyme="", locale=None)  # type: ignore[arg-type]
    card = read_poem_message(plain)
    assert card is not None and card.title == t("poem_untitled", None) and card.note == "五绝"
    ze = render_poem(title="春晓", lines=["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"], form="五绝仄韵",
                     rhyme="筿", locale="en")
    card = read_poem_message(ze)
    assert card is not None and card.form == "五绝仄韵" and card.note == "五绝仄韵　平水韵筿韵"


# --- sending: the caption, the thread, and no font --------------------------------------------------


async def test_a_card_is_drawn_in_a_thread_while_the_loop_runs_on() -> None:
    card = CardPoem.from_payload(payload("七律"))
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    out = await PoemCards().message(card, chat_id="c1", reply_to="3", locale=None)
    done.set()
    await task
    assert out.image is not None and out.image.startswith(b"\x89PNG") and out.image_name.endswith(".png")
    assert out.text == card.caption and out.reply_to_message_id == "3" and out.chat_id == "c1"
    assert ticks - before > 10  # the loop kept turning while the card was drawn (drawing blocks it otherwise)


async def test_a_long_caption_is_cut_to_telegrams_limit() -> None:
    card = dataclasses.replace(CardPoem.from_payload(payload("七绝")), caption="月" * 1500)
    out = await PoemCards().message(card, chat_id="c1", reply_to=None, locale=None)
    assert out.image is not None and len(out.text) == CAPTION_LIMIT and out.text.endswith("…")


async def test_no_font_means_one_clear_log_line_and_the_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    card = CardPoem.from_payload(payload("七绝"))
    cards = PoemCards(tmp_path / "gone.otf")
    with pytest.raises(CardFontMissing, match="POETBOT_CARD_FONT"):
        cards.font()
    with caplog.at_level(logging.WARNING, logger="bots.core.cards.service"):
        first = await cards.message(card, chat_id="c1", reply_to="5", locale="en")
        second = await cards.message(card, chat_id="c1", reply_to="6", locale=None)
    assert first.image is None and first.text == t("card_no_font", "en", poem=card.caption)
    assert second.image is None and second.text.startswith("图片暂时做不出来")
    lines = [r.getMessage() for r in caplog.records if r.name == "bots.core.cards.service"]
    assert len(lines) == 1 and "gone.otf" in lines[0] and "POETBOT_CARD_FONT" in lines[0]


def test_a_file_that_is_no_font_is_refused_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.otf"
    junk.write_bytes(b"not a font at all" * 100)
    with pytest.raises(CardFontMissing, match="not a font"):
        load_font(junk)


# --- /card through the chat core ----------------------------------------------------------------------


def incoming(text: str, replied: str | None = None, locale: str | None = None) -> IncomingMessage:
    return IncomingMessage(platform="telegram", chat_id="c1", user_id="u1", text=text, locale=locale, message_id="42",
                           replied_text=replied, reply_to_bot=replied is not None)


def test_card_is_a_command_with_chinese_aliases() -> None:
    assert parse_command("/card").name == "card"  # type: ignore[union-attr]
    assert parse_command("诗卡").name == "card"  # type: ignore[union-attr]
    assert parse_command("/card@poetbot", bot_username="poetbot", is_group=True).name == "card"  # type: ignore[union-attr]


async def test_card_replying_to_a_delivered_poem_sends_its_picture(core: ChatCore) -> None:
    request = PoemRequest(request_id="r1", platform="telegram", chat_id="c1", user_id="u1", topic="登高", form="七律")
    delivered = core.render_reply(PoemReply.ok(request, POEMS["七律"] | {"text": ""})).text
    [out] = await core.handle(incoming("/card", delivered))
    assert out.image is not None and out.image.startswith(b"\x89PNG") and len(out.image) < MAX_BYTES
    assert out.text == delivered and out.reply_to_message_id == "42" and out.chat_id == "c1"


async def test_card_without_a_poem_says_how(core: ChatCore) -> None:
    [how] = await core.handle(incoming("/card"))
    assert how.image is None and how.text == t("card_how", None)
    [nope] = await core.handle(incoming("/card", "你好呀", locale="en"))
    assert nope.image is None and nope.text == t("card_not_poem", "en")


async def test_card_with_the_font_missing_answers_with_text(core: ChatCore, bot_settings: BotSettings,
                                                            tmp_path: Path) -> None:
    no_font = ChatCore(core.service, bot_settings.model_copy(update={"card_font": tmp_path / "none.ttf"}))
    delivered = render_poem(title="秋月", lines=POEMS["七绝"]["lines"], form="七绝", rhyme="尤", locale=None)  # type: ignore[arg-type]
    [out] = await no_font.handle(incoming("/card", delivered))
    assert out.image is None and out.text == t("card_no_font", None, poem=delivered)
