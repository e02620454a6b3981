"""ChatCore against a real Redis: admission answers, /queue, /cancel, /check, rendering of replies."""

from __future__ import annotations

import re
import time

import pytest
from support.settings import make_bot_settings, make_queue_settings

from bots.core import keys
from bots.core.chat import MENU, ChatCore
from bots.core.commands import COMMAND_ALIASES
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from poetcore.errors import PoetcoreInputError
from worker.contract.keys import KEY_PREFIX
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService


def msg(text: str, *, user: str = "u1", chat: str = "c1", locale: str | None = None, message_id: str | None = None,
        group: bool = False, platform: str = "telegram") -> IncomingMessage:
    return IncomingMessage(platform=platform, chat_id=chat, user_id=user, text=text, locale=locale,
                           message_id=message_id, is_group=group)


async def one(core: ChatCore, m: IncomingMessage) -> OutgoingMessage:
    out = await core.handle(m)
    assert len(out) == 1, out
    return out[0]


def queued_request(service: PoemService, request_id: str) -> PoemRequest:
    from rq.job import Job
    from rq.serializers import JSONSerializer

    job = Job.fetch(request_id, connection=service.connection, serializer=JSONSerializer)
    return PoemRequest.model_validate(job.args[0])


# --- submitting --------------------------------------------------------------------------------


async def test_poem_is_queued_and_acknowledged_with_position(core: ChatCore, service: PoemService) -> None:
    first = await one(core, msg("/poem 秋月 七绝", message_id="10"))
    assert first.request_id and first.chat_id == "c1" and first.reply_to_message_id == "10"
    assert first.text == "正在作诗《秋月》（七绝）… 排队第 1 位"
    second = await one(core, msg("/poem 春风 五律 韵=东 繁", user="u2", message_id="11", locale="en"))
    assert second.text == "Writing a 五律 on “春风”… You are number 2 in the queue."
    assert service.queue_length() == 2
    req = queued_request(service, second.request_id or "")
    assert (req.kind, req.topic, req.form, req.rhyme, req.options.traditional, req.locale) == (
        "poem", "春风", "五律", "东", True, "en")
    assert req.route["core"] == {"reply_to": "11"}  # where to answer; what to write is the request itself


async def test_acrostic_request(core: ChatCore, service: PoemService) -> None:
    out = await one(core, msg("/cang 春夏秋冬 五绝"))
    assert out.text.startswith("正在作藏头诗「春夏秋冬」（五绝）")
    req = queued_request(service, out.request_id or "")
    assert (req.kind, req.heads, req.form, req.topic) == ("acrostic", "春夏秋冬", "五绝", "")


async def test_front_end_route_is_kept(core: ChatCore, service: PoemService) -> None:
    m = IncomingMessage("discord", "9", "8", "!poem 秋月", route={"kind": "message", "channel_id": "9"})
    out = await one(core, m)
    req = queued_request(service, out.request_id or "")
    assert req.route["kind"] == "message" and req.route["channel_id"] == "9" and "core" in req.route


async def test_redelivered_update_is_not_queued_twice(core: ChatCore, service: PoemService) -> None:
    """A re-delivered update (after a crash, a webhook retry) is answered at most once."""
    first = await one(core, msg("/poem 秋月", message_id="77"))
    assert first.request_id
    # Crashed before the placeholder left: the re-delivery sends it (same request, queued once).
    again = await one(core, msg("/poem 秋月", message_id="77"))
    assert again.request_id == first.request_id and again.text.startswith("正在作诗")
    # The placeholder went out: a re-delivery says nothing more.
    await core.remember_placeholder("telegram", first.request_id, "1001")
    assert await core.handle(msg("/poem 秋月", message_id="77")) == []
    assert service.queue_length() == 1
    # A front-end without placeholders still hears why nothing new happens.
    core.uses_placeholders = False
    assert (await one(core, msg("/poem 秋月", message_id="78"))).request_id
    assert (await one(core, msg("/poem 秋月", message_id="78"))).text == t("duplicate", None)


async def test_a_busy_group_gets_one_notice_instead_of_a_placeholder_per_request(
    service: PoemService, redis_client: object
) -> None:
    core = ChatCore(service, make_bot_settings(group_placeholder_limit=2, group_placeholder_window_s=30))
    answers = [await core.handle(msg(f"/poem {'春夏秋冬梅'[i]}月", user=f"u{i}", message_id=str(100 + i), group=True))
               for i in range(5)]
    assert [a[0].request_id is not None for a in answers[:2]] == [True, True]  # own placeholders, to edit later
    [notice] = answers[2]
    assert notice.request_id is None and notice.text == t("group_busy", None, seconds=30)
    assert answers[3:] == [[], []]  # quiet: the poem will reply to the message itself
    assert service.queue_length() == 5  # every request was still queued
    # Only requests with a placeholder wait for it; quiet ones are delivered at once.
    marks = [redis_client.get(keys.placeholder("telegram", f"telegram_c1_{100 + i}")) for i in range(5)]  # type: ignore[attr-defined]
    assert [m is not None for m in marks] == [True, True, False, False, False]
    # A re-delivered quiet request stays quiet; other chats and private chats are not affected.
    assert await core.handle(msg("/poem 冬月", user="u3", message_id="103", group=True)) == []
    assert (await one(core, msg("/poem 春风", chat="c2", message_id="5", group=True))).request_id
    assert (await one(core, msg("/poem 春风", chat="p1", user="u9", message_id="6"))).request_id
    # The window ends: the group gets placeholders again.
    redis_client.delete(keys.group_placeholders("telegram", "c1"))  # type: ignore[attr-defined]
    assert (await one(core, msg("/poem 夏雨", user="u7", message_id="200", group=True))).request_id


async def test_group_placeholder_limit_zero_gives_every_request_a_placeholder(service: PoemService) -> None:
    core = ChatCore(service, make_bot_settings(group_placeholder_limit=0))
    for i in range(8):
        assert (await one(core, msg("/poem 秋月", user=f"u{i}", message_id=str(i), group=True))).request_id


async def test_rate_limit_per_user(redis_url: str) -> None:
    service = PoemService.from_url(redis_url, make_queue_settings(user_limit=2, user_window_s=60))
    core = ChatCore(service, make_bot_settings())
    for _ in range(2):
        assert (await one(core, msg("/poem 秋月"))).request_id
    refused = await one(core, msg("/poem 秋月"))
    assert refused.request_id is None
    assert refused.text.startswith("请求太频繁了，请 ") and "秒后再试" in refused.text
    other_user = await one(core, msg("/poem 秋月", user="u2"))
    assert other_user.request_id
    assert service.queue_length() == 3


async def test_rate_limit_per_chat(redis_url: str) -> None:
    """A private chat hears its refusal at once; a group's go into its combined notice."""
    service = PoemService.from_url(redis_url, make_queue_settings(user_limit=0, chat_limit=1))
    core = ChatCore(service, make_bot_settings())
    assert (await one(core, msg("/poem 秋月"))).request_id
    refused = await one(core, msg("/poem 秋月", locale="en"))
    assert refused.text.startswith("Too many requests in this chat")
    assert (await one(core, msg("/poem 秋月", chat="-5", group=True))).request_id
    assert await core.handle(msg("/poem 秋月", user="u2", chat="-5", group=True, locale="en")) == []
    [notice] = await core.notices.due("telegram", now=time.time() + 60)
    assert notice.chat_id == "-5" and "u2" in notice.text and notice.text.startswith("Too many requests in this group")


async def test_queue_full(redis_url: str) -> None:
    service = PoemService.from_url(redis_url, make_queue_settings(max_queue_length=2, user_limit=0, chat_limit=0))
    core = ChatCore(service, make_bot_settings())
    for _ in range(2):
        assert (await one(core, msg("/poem 秋月"))).request_id
    busy = await one(core, msg("/poem 秋月"))
    assert busy.request_id is None and busy.text.startswith("现在作诗的人太多了，请 ")
    assert service.queue_length() == 2


async def test_bad_input_never_reaches_the_queue(core: ChatCore, service: PoemService) -> None:
    for text in ["/poem", "/poem moon", "/poem 🌙🌙", "/poem " + "月" * 40, "/cang 春夏秋 七绝", "/poem 秋月 七律 韵=董",
                 "/ci 浣沙溪 秋思", "/ci 浣溪沙 秋思 部=16"]:
        out = await one(core, msg(text))
        assert out.request_id is None and "例如" in out.text, (text, out.text)
    assert service.queue_length() == 0
    assert service.connection.keys(f"{KEY_PREFIX}:req:*") == []


async def test_redis_down_gets_a_clear_answer() -> None:
    from worker.contract.redis_server import free_port

    service = PoemService.from_url(f"redis://127.0.0.1:{free_port()}/0", make_queue_settings())
    core = ChatCore(service, make_bot_settings())
    out = await one(core, msg("/poem 秋月"))
    assert out.text == t("service_unavailable", None)


# --- /queue and /cancel ------------------------------------------------------------------------


async def test_queue_reports_position_and_length(core: ChatCore) -> None:
    assert (await one(core, msg("/queue"))).text == "你目前没有排队中的请求。队列中共有 0 个请求。"
    await one(core, msg("/poem 秋月", user="u1"))
    await one(core, msg("/poem 春风", user="u2"))
    assert (await one(core, msg("/queue", user="u2"))).text == "你的请求排在第 2 位，队列中共有 2 个请求。"
    assert (await one(core, msg("排队", user="u1"))).text == "你的请求排在第 1 位，队列中共有 2 个请求。"
    assert (await one(core, msg("/queue", user="u3", locale="en"))).text == (
        "You have no request in the queue. 2 requests are queued.")


async def test_cancel_own_waiting_request(core: ChatCore, service: PoemService, redis_url: str) -> None:
    assert (await one(core, msg("/cancel"))).text == t("cancel_none", None)
    ack = await one(core, msg("/poem 秋月", message_id="5"))
    await one(core, msg("/poem 春风", user="u2"))
    assert (await one(core, msg("/cancel"))).text == "已取消《秋月》（七绝）。"  # says which request it dropped
    assert service.queue_length() == 1
    assert (await one(core, msg("/cancel"))).text == t("cancel_none", None)
    # The cancellation travels as a reply, so the acknowledgement can be edited to say so.
    consumer = ReplyConsumer.from_settings(make_queue_settings(), "telegram", redis_url, consumer="t")
    delivery = await anext(consumer.replies())
    assert delivery.reply.request_id == ack.request_id and delivery.reply.status == "cancelled"
    assert core.render_reply(delivery.reply).text == t("failed_cancelled", None)
    await consumer.aclose()


@pytest.mark.parametrize(("command", "said"), [
    ("/cang 春夏秋冬 五绝", "已取消藏头诗「春夏秋冬」（五绝）。"),
    ("/xu 白日依山尽，黄河入海流 五律", "已取消续写「白日依山尽」（五律）。"),
    ("/dui 春风又绿江南岸", "已取消为「春风又绿江南岸」对句。"),
    ("/ci 浣溪沙 秋思", "已取消《秋思》（浣溪沙）。"),
    ("/poem 秋月 七律", "Cancelled: “秋月” (七律)."),
])
async def test_cancel_names_the_request_it_dropped(core: ChatCore, command: str, said: str) -> None:
    locale = "en" if said.startswith("Cancelled") else None
    await one(core, msg(command, locale=locale))
    assert (await one(core, msg("/cancel", locale=locale))).text == said
    assert (await one(core, msg("/cancel", locale=locale))).text == t("cancel_none", locale)


async def test_cancel_too_late_when_running(core: ChatCore, service: PoemService) -> None:
    ack = await one(core, msg("/poem 秋月"))
    # A worker took the job: RQ moves it to the started registry.
    from rq.job import Job, JobStatus
    from rq.serializers import JSONSerializer

    job = Job.fetch(ack.request_id or "", connection=service.connection, serializer=JSONSerializer)
    service.queue.remove(job)
    job.set_status(JobStatus.STARTED)
    assert (await one(core, msg("/cancel"))).text == t("cancel_too_late", None)
    assert (await one(core, msg("/queue"))).text == "你的诗正在创作中，马上就好。队列中共有 0 个请求。"


async def test_users_cannot_cancel_each_other(core: ChatCore, service: PoemService) -> None:
    await one(core, msg("/poem 秋月", user="u1"))
    assert (await one(core, msg("/cancel", user="u2"))).text == t("cancel_none", None)
    assert service.queue_length() == 1


# --- in-process commands -----------------------------------------------------------------------


async def test_check_good_poem(core: ChatCore, service: PoemService) -> None:
    out = await one(core, msg("/check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"))
    assert out.text.startswith("✅ 合律：五绝") and "尤韵" in out.text
    assert service.queue_length() == 0  # no queue, no GPU


async def test_check_reports_violations_in_the_users_language(core: ChatCore) -> None:
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    zh = (await one(core, msg(f"/check 五绝 {poem}"))).text  # named: checked as a 律绝
    assert zh.startswith("❌ 按五绝检查") and "第二句第四字应平而仄" in zh
    en = (await one(core, msg(f"/check 五绝 {poem}", locale="en"))).text
    assert en.startswith("❌ Checked as 五绝") and "line 2, char 4" in en


async def test_check_suggests_three_replacements_and_names_tolerated_ao(core: ChatCore) -> None:
    broken = "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。万里悲秋常作客，百年多病独登楼。艰难苦恨繁霜鬓，潦倒新停浊酒杯。"
    out = (await one(core, msg(f"/check {broken}"))).text
    assert "第六句韵脚不押灰韵" in out and "💡 第6句第7字“楼”可换：台" in out
    en = (await one(core, msg(f"/check {broken}", locale="en"))).text
    assert "💡 line 6, char 7 (楼): try 台" in en
    wang_wan = "客路青山外，行舟绿水前。潮平两岸阔，风正一帆悬。海日生残夜，江春入旧年。乡书何处达，归雁洛阳边。"
    ok = (await one(core, msg(f"/check {wang_wan}"))).text
    assert ok.startswith("✅ 合律") and "△ 拗（可容，不算犯律）2 处" in ok and "三仄尾" in ok


@pytest.mark.parametrize(
    ("poem", "head"),
    [("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。", "✅ 古绝（仄韵，押上声筿韵）：古体，不拘平仄；押韵无误。"),
     ("千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。", "✅ 古绝（仄韵，押入声屑韵）：古体，不拘平仄；押韵无误。"),
     ("床前明月光，疑是地上霜。举头望明月，低头思故乡。", "✅ 古绝（平韵，押阳韵）：古体，不拘平仄；押韵无误。")],
    ids=["春晓", "江雪", "静夜思"],
)
async def test_check_names_a_gu_jue_and_offers_no_rewrite(core: ChatCore, poem: str, head: str) -> None:
    rows = (await one(core, msg(f"/check {poem}"))).text.split("\n")
    assert rows[0] == head
    assert rows[1].startswith("ℹ 参考：") and "处不合（古体不必守）" in rows[1]
    assert not any(row.startswith(("💡", "❌", "△")) for row in rows) and "不合律" not in rows[0]
    assert rows[-1] == f"要按律绝检查，请写明体裁：/check 五绝 {poem[:5]}……"
    en = (await one(core, msg(f"/check {poem}", locale="en"))).text
    assert en.startswith("✅ 古绝, an old-style quatrain") and "For reference" in en and "💡" not in en


async def test_check_of_a_gu_jue_named_as_a_lv_jue_is_checked_as_one(core: ChatCore) -> None:
    out = (await one(core, msg("/check 五绝 春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"))).text
    assert out.startswith("❌ 按五绝检查") and "第二句韵脚“鸟”不是平声韵字" in out and "💡 第2句第5字“鸟”可换：" in out


async def test_check_of_a_lv_jue_with_one_slip_keeps_its_fault_and_suggestions(core: ChatCore) -> None:
    ok = (await one(core, msg("/check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"))).text
    assert ok.startswith("✅ 合律：五绝")
    slip = (await one(core, msg("/check 白日依山尽，黄石入海流。欲穷千里目，更上一层楼。"))).text
    assert slip.startswith("❌ 按五绝检查") and "第二句第二字应平而仄（石）" in slip and "💡 第2句第2字“石”可换：" in slip


SHUIDIAO = ("明月几时有？把酒问青天。不知天上宫阙，今夕是何年。我欲乘风归去，又恐琼楼玉宇，高处不胜寒。"
            "起舞弄清影，何似在人间。转朱阁，低绮户，照无眠。不应有恨，何事长向别时圆？人有悲欢离合，"
            "月有阴晴圆缺，此事古难全。但愿人长久，千里共婵娟。")


@pytest.mark.parametrize("title", ["水调歌头 ", "水调歌头\u3000", "《水调歌头》", "水调歌头·明月几时有\n", "水调歌头·明月几时有 "],
                         ids=["space", "full-width-space", "book-title", "first-line", "first-line-space"])
async def test_check_of_a_titled_ci_reads_it_as_its_cipai(core: ChatCore, title: str) -> None:
    out = (await one(core, msg(f"/check {title}{SHUIDIAO}"))).text
    assert out.startswith("✅ 合谱：水调歌头") and "无法识别体裁" not in out
    assert out.split("\n")[1].startswith("明月几时有　")


async def test_check_of_shengshengman_says_it_has_no_chart(core: ChatCore) -> None:
    slow = ("寻寻觅觅，冷冷清清，凄凄惨惨戚戚。乍暖还寒时候，最难将息。三杯两盏淡酒，怎敌他、晚来风急！雁过也，正伤心，"
            "却是旧时相识。满地黄花堆积，憔悴损，如今有谁堪摘？守着窗儿，独自怎生得黑！梧桐更兼细雨，到黄昏、点点滴滴。"
            "这次第，怎一个愁字了得！")
    out = (await one(core, msg(f"/check 声声慢 {slow}"))).text
    assert out.startswith("读作词牌“声声慢”的词") and "只收了最常见的 50 个词牌，其中没有声声慢" in out
    assert "无法识别体裁" not in out and "白日依山尽" not in out
    en = (await one(core, msg(f"/check 声声慢 {slow}", locale="en"))).text
    assert "声声慢 is not among them" in en
    short = (await one(core, msg("/check 水调歌头 明月几时有？把酒问青天。"))).text
    assert short.startswith("不合水调歌头的词谱") and "这首共2句10字，比正体少 85 字" in short


async def test_check_shape_error_mentions_ci(core: ChatCore) -> None:
    out = (await one(core, msg("/check 一二三四五六七八九十，甲乙丙丁。"))).text
    assert "无法识别体裁" in out and "也不是已统计的 50 个词牌之一" in out and "水调歌头 明月几时有" in out


async def test_check_of_non_poem_explains_supported_shapes(core: ChatCore) -> None:
    out = await one(core, msg("/check hello world"))
    assert "hello" in out.text and "七律" in out.text and "例如 /check" in out.text


async def test_forms_help_start(core: ChatCore) -> None:
    forms = (await one(core, msg("/forms"))).text
    assert all(f in forms for f in ("五绝", "七绝", "五律", "七律")) and "4 句，每句 7 字" in forms
    assert "lines of 7 characters" in (await one(core, msg("/forms", locale="en"))).text
    help_text = (await one(core, msg("/help"))).text
    assert "/poem 秋月 七绝" in help_text and "/cang" in help_text and "默认七绝" in help_text
    start = (await one(core, msg("/start", locale="en"))).text
    assert start.startswith("Hello!") and "/cancel" in start


@pytest.mark.parametrize("locale", [None, "en"])
async def test_help_names_every_menu_command(core: ChatCore, locale: str | None) -> None:
    help_text = (await one(core, msg("/help", locale=locale))).text
    missing = [name for name in MENU if name != "help"
               and not re.search(rf"/{COMMAND_ALIASES[name][0]}(?![A-Za-z])", help_text)]
    assert missing == []  # /xu, /dui and /cai included
    assert "/dui 白日依山尽" in help_text and "/ci 浣溪沙" in help_text and "仄韵" in help_text


async def test_plain_text_in_private_gets_a_hint_but_groups_stay_quiet(core: ChatCore) -> None:
    assert (await one(core, msg("你好"))).text == t("hint_plain_text", None)
    assert await core.handle(msg("你好", group=True)) == []
    assert await core.handle(msg("/poem@otherbot 秋月", group=True)) == []


def test_command_descriptions_cover_the_menu(core: ChatCore) -> None:
    zh, en = core.command_descriptions("zh"), core.command_descriptions("en")
    assert [c for c, _ in zh] == [c for c, _ in en] == [
        "poem", "ci", "cang", "xu", "dui", "check", "card", "rhyme", "yun", "fhl", "jieju", "cai", "a", "hint", "stop", "rank", "forms", "queue", "cancel",
        "help"]
    assert all(1 <= len(d) <= 100 for _, d in zh + en)
    assert zh != en


# --- rendering replies -------------------------------------------------------------------------


def _request(**kw: object) -> PoemRequest:
    base: dict[str, object] = {"platform": "telegram", "chat_id": "c1", "user_id": "u1", "topic": "秋月",
                               "route": {"core": {"reply_to": "10"}}}
    return PoemRequest.model_validate({**base, **kw})


POEM = {"title": "秋月", "lines": ["碧落清辉照九州", "寒光万里动商秋", "谁家玉笛飞声远", "一夜乡心到白头"],
        "form": "七绝", "rhyme_group": "尤", "text": "..."}


def test_render_poem(core: ChatCore) -> None:
    out = core.render_reply(PoemReply.ok(_request(), POEM))
    assert out.chat_id == "c1" and out.reply_to_message_id == "10"
    assert out.text.splitlines() == ["《秋月》", "碧落清辉照九州，", "寒光万里动商秋。", "谁家玉笛飞声远，", "一夜乡心到白头。",
                                     "", "—— 七绝 · 平水韵尤韵"]
    en = core.render_reply(PoemReply.ok(_request(locale="en"), POEM)).text
    assert en.endswith("— 七绝 · 平水韵 rhyme group 尤")


CI = {"title": "秋思", "lines": ["秋思无边雁又还", "孤灯耿耿夜阑干", "梦回残烛不成眠", "窗外月明人影瘦", "枕间棋局酒杯宽",
                               "醉来情绪转多难"],
      "form": "浣溪沙", "rhyme_group": "第七部平", "text": "...", "marks": "。。。，。。", "kind": "词"}


def test_render_ci_as_its_chart_breaks_it(core: ChatCore) -> None:
    out = core.render_reply(PoemReply.ok(_request(), CI)).text
    assert out.splitlines() == ["《浣溪沙·秋思》", "秋思无边雁又还。", "孤灯耿耿夜阑干。", "梦回残烛不成眠。",
                                "窗外月明人影瘦，枕间棋局酒杯宽。", "醉来情绪转多难。", "", "—— 浣溪沙 · 词林正韵第七部平"]
    en = core.render_reply(PoemReply.ok(_request(locale="en"), CI)).text
    assert en.endswith("— 浣溪沙 · 词林正韵 section 第七部平")
    titled_by_tune = core.render_reply(PoemReply.ok(_request(), {**CI, "title": "浣溪沙"})).text
    assert titled_by_tune.startswith("《浣溪沙》\n")


async def test_ci_alone_lists_the_cipai_and_ci_is_queued_with_its_tune(core: ChatCore, service: PoemService) -> None:
    assert "/ci" in (forms := (await one(core, msg("/forms"))).text) and "七绝仄韵" in forms
    listing = (await one(core, msg("/ci"))).text
    assert "浣溪沙：42 字 · 平韵" in listing and "菩萨蛮：44 字 · 仄韵→平韵→仄韵→平韵" in listing
    assert "忆江南" in listing and "望江南忆江南" not in listing  # the name users know
    assert "浣溪沙: 42 chars" in (await one(core, msg("/ci", locale="en"))).text
    out = await one(core, msg("/ci 忆江南 春景 部=1"))
    req = queued_request(service, out.request_id or "")
    assert (req.kind, req.topic, req.form, req.rhyme) == ("poem", "春景", "忆江南", "部1")
    out = await one(core, msg("/poem 秋月 如梦令"))
    assert queued_request(service, out.request_id or "").form == "如梦令"
    out = await one(core, msg("/xu 春眠不觉晓，处处闻啼鸟"))
    assert queued_request(service, out.request_id or "").form == "五绝"  # the engine hears the 仄韵 and keeps it


def test_render_traditional(core: ChatCore) -> None:
    """The engine writes the poem in traditional characters; the bot's own words follow its script."""
    req = _request(route={})
    trad = {**POEM, "lines": ["碧落清輝照九州", "寒光萬里動商秋", "誰家玉笛飛聲遠", "一夜鄉心到白頭"], "traditional": True}
    text = core.render_reply(PoemReply.ok(req, trad)).text
    assert "碧落清輝照九州，" in text and "一夜鄉心到白頭。" in text and "七絕" in text
    assert core.render_reply(PoemReply.ok(req, trad)).reply_to_message_id is None
    # Simplified lines stay as the engine wrote them: the bot converts no poem text itself.
    assert "碧落清辉照九州，" in core.render_reply(PoemReply.ok(req, {**POEM, "traditional": True})).text


def test_render_couplet_and_the_users_faults(core: ChatCore) -> None:
    couplet = {"title": "", "lines": ["白日依山尽", "青天一望间"], "form": "五言联", "rhyme_group": "删", "text": "..."}
    text = core.render_reply(PoemReply.ok(_request(), couplet)).text
    assert "白日依山尽" in text and "青天一望间" in text and "《" not in text
    faults = [{"message_zh": "第1句第2字应仄而平（风）", "message_en": "line 1 char 2 should be 仄 (风)"}]
    zh = core.render_reply(PoemReply.ok(_request(), {**POEM, "prefix_faults": faults})).text
    en = core.render_reply(PoemReply.ok(_request(locale="en"), {**POEM, "prefix_faults": faults})).text
    assert "第1句第2字应仄而平（风）" in zh and "line 1 char 2 should be 仄 (风)" in en


def test_render_punctuation_is_normalised(core: ChatCore) -> None:
    poem = {**POEM, "lines": ["碧落清辉照九州，", "寒光万里动商秋。", "谁家玉笛飞声远,", "一夜乡心到白头"], "title": ""}
    lines = core.render_reply(PoemReply.ok(_request(), poem)).text.splitlines()
    assert lines[:5] == ["《无题》", "碧落清辉照九州，", "寒光万里动商秋。", "谁家玉笛飞声远，", "一夜乡心到白头。"]


@pytest.mark.parametrize(
    ("code", "key"),
    [("timeout", "failed_timeout"), ("worker_crashed", "failed_crashed"), ("internal", "failed_internal"),
     ("unsupported_version", "failed_version")],
)
def test_render_known_failures(core: ChatCore, code: str, key: str) -> None:
    assert core.render_reply(PoemReply.failure(_request(), code)).text == t(key, None)
    assert core.render_reply(PoemReply.failure(_request(locale="en"), code)).text == t(key, "en")


def test_render_composer_input_error_keeps_its_explanation(core: ChatCore) -> None:
    exc = PoetcoreInputError("bad_heads", "藏头字“龘”不在字表中", "head 龘 is not in the vocabulary")
    reply = PoemReply.rejected(_request(), exc)
    assert core.render_reply(reply).text == "抱歉，这首诗没写成（藏头字“龘”不在字表中）。请再试一次，或换个主题。"


@pytest.mark.parametrize("locale", ["zh", "zh-hans", "ja", "fr", "en", "en-US", "EN-gb"])
def test_a_rejection_and_the_engine_words_in_it_share_one_language(core: ChatCore, locale: str) -> None:
    exc = PoetcoreInputError("bad_heads", "藏头字“龘”不在字表中", "head 龘 is not in the vocabulary")
    text = core.render_reply(PoemReply.rejected(_request(locale=locale), exc)).text
    english = text.startswith("Sorry")
    assert english == locale.lower().startswith("en")
    assert ("head 龘 is not in the vocabulary" in text) == english and ("藏头字“龘”不在字表中" in text) != english


async def test_placeholder_ids_survive_in_redis(core: ChatCore, service: PoemService, bot_settings: object) -> None:
    await core.remember_placeholder("telegram", "r1", "42")
    restarted = ChatCore(PoemService(service.connection, service.settings), make_bot_settings())
    assert await restarted.placeholder_id("telegram", "r1") == "42"
    assert await restarted.placeholder_id("discord", "r1") is None
    ttl = service.connection.ttl(keys.placeholder("telegram", "r1"))
    assert 0 < ttl <= make_bot_settings().placeholder_ttl_s
    await restarted.forget_placeholder("telegram", "r1")
    assert await core.placeholder_id("telegram", "r1") is None


# --- settings ----------------------------------------------------------------------------------


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:abc")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://localhost:8081/bot")
    monkeypatch.setenv("POETBOT_DEFAULT_FORM", "七言律诗")
    monkeypatch.setenv("POETBOT_MAX_MESSAGE_CHARS", "120")
    s = BotSettings(_env_file=None)
    assert s.telegram_token_value == "1:abc" and "abc" not in repr(s)
    assert (s.telegram_base_url, s.default_form, s.limits.max_message_chars) == ("http://localhost:8081/bot", "七律", 120)


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"default_form": "五古"}, "五绝、七绝、五律、七律"),
        ({"telegram_base_url": "api.telegram.org"}, "http://"),
        ({"telegram_mode": "webhook", "telegram_token": "1:x"}, "TELEGRAM_WEBHOOK_URL"),
        ({"telegram_webhook_secret": "has space"}, "A-Z"),
        ({"max_topic_chars": 20}, "12"),
    ],
)
def test_bad_settings_say_what_to_fix(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        make_bot_settings(**overrides)


async def test_rhyme_lookup_and_group_list_answer_in_process(core: ChatCore, service: PoemService) -> None:
    out = (await one(core, msg("/rhyme 还"))).text
    assert out.startswith("“还”：平声") and "平水韵删韵（平），词林正韵第七部" in out
    assert out.index("删韵") < out.index("先韵")  # the common reading first
    assert "——" in out  # a famous line with its source (the built-in index)
    en = (await one(core, msg("/rhyme 行", locale="en"))).text
    assert "平水韵 group 庚 (平), 词林正韵 第十一部" in en
    assert (await one(core, msg("/查韵 春风"))).text == t("err_rhyme_one_char", None)
    yun = (await one(core, msg("/yun 东"))).text
    assert yun.startswith("上平一东") and yun.split("\n")[1].startswith("风")
    assert (await one(core, msg("/韵部 火星"))).text == t("yun_unknown", None, label="火星")
    assert service.queue_length() == 0


async def test_rhyme_names_both_tones_with_each_reading(core: ChatCore) -> None:
    out = (await one(core, msg("/rhyme 行"))).text.split("\n")
    assert out[0].startswith("“行”：平仄两读（平：下平八庚、下平七阳；仄：去声") and "声声" not in out[0]
    assert "• 平水韵庚韵（平）" in out[1] and any(row.startswith("• 平水韵敬韵（仄·去声）") for row in out)
    en = (await one(core, msg("/rhyme 行", locale="en"))).text
    assert en.startswith("行: both tones (平: 下平八庚, 下平七阳; 仄: 去声") and "(仄, 去声)" in en
    assert (await one(core, msg("/rhyme 东"))).text.startswith("“东”：平声\n")
    yue = (await one(core, msg("/rhyme 月"))).text
    assert yue.startswith("“月”：仄声（入声）\n• 平水韵月韵（仄·入声），词林正韵第十八部；仄韵诗中押此韵 ")
    assert "押此韵 0 次" not in yue and "——" in yue
    assert (await one(core, msg("/rhyme 月", locale="en"))).text.startswith("月: oblique tone (仄: 入声)")


async def test_rhyme_of_a_traditional_form_looks_up_its_simplified_one(core: ChatCore) -> None:
    out = (await one(core, msg("/rhyme 東"))).text
    rows = out.split("\n")
    assert rows[0] == "“東”（按“东”查）：平声"  # what the user typed, and what was looked up
    assert re.fullmatch(r"• 平水韵东韵（平），词林正韵第一部；诗中押此韵 [1-9]\d* 次", rows[1])
    assert rows[1:] == (await one(core, msg("/rhyme 东"))).text.split("\n")[1:]  # same uses, same famous lines
    assert any(row.startswith("「") and row.split("」")[0].endswith("东") for row in rows)
    en = (await one(core, msg("/查韵 隠", locale="en"))).text
    assert en.startswith("隠 (looked up as 隐): oblique tone (仄: 上声, 去声)")


async def test_yun_of_a_ze_group_shows_the_counts_it_is_ordered_by(core: ChatCore) -> None:
    head, chars, *rest = (await one(core, msg("/yun 月"))).text.split("\n")
    assert head.startswith("入声六月（仄·入声），按仄韵诗中押韵次数排列")
    assert all(row.startswith("语料中未见押此韵") and not re.search(r"\d", row) for row in rest)  # the tail, if any
    counts = [int(n) for n in re.findall(r"\d+", chars)]
    assert chars.startswith("月") and len(counts) == len(chars.split()) and counts == sorted(counts, reverse=True)
    en = (await one(core, msg("/yun 月", locale="en"))).text
    assert en.startswith("入声六月 (仄, 入声), most rhymed in the corpus's 仄韵 poems first")
    # 上声一董: a few rhymed characters, the rest on a line that says they are never rhymed there.
    dong = (await one(core, msg("/yun 董"))).text.split("\n")
    assert dong[0].startswith("上声一董（仄·上声）") and re.search(r"\d", dong[1])
    assert dong[2].startswith("语料中未见押此韵") and not re.search(r"\d", dong[2])
    # 上声三讲: no corpus poem rhymes there, so no order by uses is claimed.
    jiang = (await one(core, msg("/yun 讲"))).text.split("\n")
    assert jiang[0].startswith("上声三讲：语料中没有押此韵的诗") and "按" not in jiang[0]
    assert "讲" in jiang[1].split() and not re.search(r"\d", jiang[1])


async def test_check_of_a_ci_finds_its_cipai(core: ChatCore) -> None:
    out = (await one(core, msg("/check 昨夜雨疏风骤，浓睡不消残酒。试问卷帘人，却道海棠依旧。知否，知否？应是绿肥红瘦。"))).text
    assert out.startswith("✅ 合谱：如梦令（正体）")
    rows = out.split("\n")
    assert rows[1] == "昨夜雨疏风骤　中仄中平中仄（韵）" and rows[4].endswith("（叶）")  # each line against its chart
    bad = (await one(core, msg("/check 昨天雨疏风骤，浓睡不消残酒。试问卷帘人，却道海棠依旧。知否，知否？应是绿肥红瘦。"))).text
    assert bad.split("\n")[1].startswith("昨【天】雨疏风骤")
