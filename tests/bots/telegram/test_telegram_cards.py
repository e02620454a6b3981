"""Poem cards on the fake Telegram: a delivered poem, ``/card`` in reply to it, and the real PTB bot's
sendPhoto (a multipart upload with the poem as caption); the fake's sendPhoto keeps the Bot API's
limits, checked here with the real client."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.fake_telegram import MAX_CAPTION, FakeTelegram, Upload
from support.settings import make_bot_settings, make_queue_settings
from telegram import Bot, InputFile
from telegram.error import BadRequest

from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.core.settings import BotSettings
from bots.telegram import TelegramBot
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.replies import ReplyConsumer, ReplyPublisher
from worker.contract.service import PoemService

QILU = {"title": "登高", "lines": ["风急天高猿啸哀", "渚清沙白鸟飞回", "无边落木萧萧下", "不尽长江滚滚来", "万里悲秋常作客",
                                 "百年多病独登台", "艰难苦恨繁霜鬓", "潦倒新停浊酒杯"], "form": "七律", "rhyme_group": "灰",
        "text": ""}
CI = {"title": "春晚", "lines": ["常記溪亭日暮", "沉醉不知歸路", "興盡晚回舟", "誤入藕花深處", "爭渡", "爭渡", "驚起一灘鷗鷺"],
      "form": "如梦令", "rhyme_group": "第四部仄", "marks": "。。，。，，。", "kind": "词", "traditional": True, "text": ""}


@pytest.fixture
async def card_bot(fake_telegram: FakeTelegram, core: ChatCore, redis_url: str) -> AsyncIterator[TelegramBot]:
    consumer = ReplyConsumer.from_settings(make_queue_settings(), "telegram", redis_url, consumer="tg-cards")
    settings = make_bot_settings(telegram_token=fake_telegram.token, telegram_base_url=fake_telegram.base_url,
                                 telegram_poll_timeout_s=5)
    bot = TelegramBot(core, settings, consumer)
    await bot.start()
    yield bot
    await bot.stop()
    await consumer.aclose()


async def delivered_poem(fake: FakeTelegram, service: PoemService, chat_id: int, poem: dict[str, Any]) -> int:
    """Ask for a poem, let a worker's reply be delivered (edited into the placeholder); its message id."""
    await fake.user_says(chat_id, "/poem 登高 七律")
    await fake.wait_for(lambda f: f.chat(chat_id) and f.chat_actions)  # the placeholder's id is stored
    from rq.job import Job
    from rq.serializers import JSONSerializer

    job = Job.fetch(service.queue.job_ids[0], connection=service.connection, serializer=JSONSerializer)
    request = PoemRequest.model_validate(job.args[0])
    ReplyPublisher.from_settings(service.connection, service.settings).publish(PoemReply.ok(request, poem))
    await fake.wait_for(lambda f: f.chat(chat_id)[0].history)
    return fake.chat(chat_id)[0].message_id


@pytest.mark.parametrize("poem", [QILU, CI], ids=["七律", "词繁"])
async def test_card_in_reply_to_a_poem_sends_a_photo_captioned_with_it(card_bot: TelegramBot, fake_telegram: FakeTelegram,
                                                                       service: PoemService, poem: dict[str, Any]) -> None:
    poem_id = await delivered_poem(fake_telegram, service, 7001, poem)
    text = fake_telegram.chat(7001)[0].text
    asked = await fake_telegram.user_says(7001, "/card", reply_to=poem_id)
    await fake_telegram.wait_for(lambda f: any(m.photo for m in f.chat(7001)))
    [card] = [m for m in fake_telegram.chat(7001) if m.photo]
    assert card.text == text and card.reply_to == asked  # captioned with the poem, replying to /card
    [call] = fake_telegram.method_calls("sendPhoto")
    assert isinstance(call["photo"], Upload) and call["photo"].filename == "poem.png" and call["caption"] == text
    with Image.open(io.BytesIO(card.photo or b"")) as image:
        assert image.format == "PNG" and image.width > image.height > 400
    assert len(card.photo or b"") < 200 * 1024


async def test_card_without_a_reply_or_font_answers_in_text(fake_telegram: FakeTelegram, service: PoemService,
                                                            bot_settings: BotSettings, redis_url: str,
                                                            tmp_path: Path) -> None:
    core = ChatCore(service, bot_settings.model_copy(update={"card_font": tmp_path / "missing.otf"}))
    consumer = ReplyConsumer.from_settings(make_queue_settings(), "telegram", redis_url, consumer="tg-cards-2")
    settings = make_bot_settings(telegram_token=fake_telegram.token, telegram_base_url=fake_telegram.base_url,
                                 telegram_poll_timeout_s=5)
    bot = TelegramBot(core, settings, consumer)
    await bot.start()
    try:
        await fake_telegram.user_says(7002, "/card")
        await fake_telegram.wait_for(lambda f: f.chat(7002))
        assert fake_telegram.chat(7002)[0].text == t("card_how", "zh-hans")
        poem_id = await delivered_poem(fake_telegram, service, 7003, QILU)
        text = fake_telegram.chat(7003)[0].text
        await fake_telegram.user_says(7003, "诗卡", reply_to=poem_id)
        await fake_telegram.wait_for(lambda f: len(f.chat(7003)) == 2)
        assert fake_telegram.chat(7003)[1].text == t("card_no_font", "zh-hans", poem=text)
        assert not fake_telegram.method_calls("sendPhoto")
    finally:
        await bot.stop()
        await consumer.aclose()


# --- the fake's sendPhoto keeps the Bot API's rules ----------------------------------------------------


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (240, 230, 210)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as client:
        yield client


async def test_send_photo_answers_a_photo_message(bot: Bot, fake_telegram: FakeTelegram) -> None:
    sent = await bot.send_photo(8001, InputFile(png(1600, 900), filename="a.png"), caption="诗")
    assert sent.caption == "诗" and sent.text is None
    assert max(sent.photo, key=lambda p: p.width).width == 1600 and sent.photo[0].width == 90
    with pytest.raises(BadRequest, match="no text in the message to edit"):
        await bot.edit_message_text("改", chat_id=8001, message_id=sent.message_id)


@pytest.mark.parametrize(("photo", "caption", "error"), [
    (png(600, 400), "月" * (MAX_CAPTION + 1), "caption is too long"),
    (b"not an image", "", "IMAGE_PROCESS_FAILED"),
    (png(6000, 4100), "", "PHOTO_INVALID_DIMENSIONS"),  # width + height > 10,000
    (png(2100, 100), "", "PHOTO_INVALID_DIMENSIONS"),  # sides' ratio > 20
])
async def test_send_photo_refuses_what_the_bot_api_refuses(bot: Bot, photo: bytes, caption: str, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):  # PTB words the description "Photo_invalid_dimensions"
        await bot.send_photo(8002, InputFile(photo, filename="a.png"), caption=caption)


async def test_send_photo_at_the_caption_limit_is_taken(bot: Bot) -> None:
    sent = await bot.send_photo(8003, InputFile(png(600, 400), filename="a.png"), caption="月" * MAX_CAPTION)
    assert len(sent.caption or "") == MAX_CAPTION
