"""The one catalogue of the bots' user-facing text: Simplified Chinese first, English when the locale asks.

Every string the bots say lives here, so wording stays consistent across Telegram, Discord and the
console, and a test can prove each key exists in both languages with the same placeholders. The queue
protocol carries failure *codes* only; this catalogue words them (``failed_*``). Two kinds of text
come from the engine instead, because only it knows what was wrong: a `PoetcoreInputError`'s own
zh/en message (a rejected topic, heads that fit no tone chart), passed through inside ``failed``, and
the checker's violation lines inside ``/check`` answers.
"""

from __future__ import annotations

from poetcore.errors import PoetcoreInputError

__all__ = ["CATALOGUE", "lang", "t"]

CATALOGUE: dict[str, dict[str, str]] = {
    # ---- help and info --------------------------------------------------------------------------
    "start": {
        "zh": "你好！我是格律诗机器人：给我一个主题，我写一首合乎平仄和平水韵的近体诗。\n\n{help}",
        "en": "Hello! I write classical Chinese regulated verse (格律诗) with correct tones and "
        "平水韵 rhymes. Give me a topic.\n\n{help}",
    },
    "help": {
        "zh": "用法：\n"
        "/poem 秋月 七绝 — 按主题作诗（诗体可省略，默认{default_form}）\n"
        "/poem 秋月 七律 韵=东 — 指定平水韵韵部\n"
        "/poem 秋月 繁 — 用繁体字回复\n"
        "/poem 秋月 七绝 仄韵 — 仄韵绝句（也可 韵=鸟）\n"
        "/ci 浣溪沙 秋思 — 按词牌填词（/ci 列出词牌；部=7 指定词林正韵的部）\n"
        "/cang 春夏秋冬 七绝 — 藏头诗（藏头字数 = 诗的句数）\n"
        "/xu 白日依山尽 — 续写：我接着你的诗句写完（可加诗体，如 /xu 白日依山尽 五律）\n"
        "/dui 白日依山尽 — 对句：你出一句，我对一句\n"
        "/check 床前明月光…… — 检查一首诗的格律（犯律、拗、拗救，并给出可换的字）\n"
        "/card — 回复我的一首诗，把它做成图片（诗卡）\n"
        "/rhyme 行 — 查字的声调、韵部与名句（查韵）；/yun 东 — 韵部常用字（韵部）\n"
        "/forms — 支持的诗体\n"
        "/queue — 我的排队位置\n"
        "/cancel — 取消我排队中的请求\n"
        "也可以直接发：作诗 秋月 七绝、藏头诗 春夏秋冬\n"
        "主题最多 {max_topic} 个汉字。",
        "en": "Usage:\n"
        "/poem 秋月 七绝 — a poem on a topic (form optional, default {default_form})\n"
        "/poem 秋月 七律 rhyme=东 — choose a 平水韵 rhyme group\n"
        "/poem 秋月 trad — reply in traditional characters\n"
        "/poem 秋月 七绝 仄韵 — a quatrain rhyming in 仄 (or rhyme=鸟)\n"
        "/ci 浣溪沙 秋思 — a 词 to a tune (/ci lists the tunes; 部=7 picks the 词林正韵 section)\n"
        "/cang 春夏秋冬 七绝 — acrostic (one head character per line)\n"
        "/xu 白日依山尽 — I continue your line(s) into a poem (add a form: /xu 白日依山尽 五律)\n"
        "/dui 白日依山尽 — you give a line, I write its matching line\n"
        "/check 床前明月光… — check the prosody of a poem (faults, tolerated 拗, rescues, replacements)\n"
        "/card — reply to one of my poems to get it as a picture card\n"
        "/rhyme 行 — a character's tones, rhyme groups, famous lines; /yun 东 — a group's characters\n"
        "/forms — supported forms\n"
        "/queue — my place in the queue\n"
        "/cancel — cancel my queued request\n"
        "Topics are Chinese, at most {max_topic} characters.",
    },
    "forms_header": {"zh": "支持的诗体：", "en": "Supported forms:"},
    "forms_line": {
        "zh": "{name}：{n_lines} 句，每句 {line_length} 字{aliases}",
        "en": "{name}: {n_lines} lines of {line_length} characters{aliases}",
    },
    "forms_aliases": {"zh": "（又称 {aliases}）", "en": " (also {aliases})"},
    "forms_more": {
        "zh": "仄韵绝句：{ze}（/poem 秋月 七绝 仄韵）\n词：{count} 个词牌，发送 /ci 查看（/ci 浣溪沙 秋思）",
        "en": "Quatrains rhyming in 仄: {ze} (/poem 秋月 七绝 仄韵)\n词: {count} tunes, send /ci for the list (/ci 浣溪沙 秋思)",
    },
    "forms_footer": {
        "zh": "例如 /poem 秋月 {example}",
        "en": "Example: /poem 秋月 {example}",
    },
    "hint_plain_text": {
        "zh": "想作诗请发送命令，例如 /poem 秋月 七绝；发送 /help 查看全部用法。",
        "en": "To get a poem send a command, e.g. /poem 秋月 七绝; send /help for everything I can do.",
    },
    # ---- queue lifecycle ------------------------------------------------------------------------
    "placeholder_poem": {
        "zh": "正在作诗《{topic}》（{form}）…",
        "en": "Writing a {form} on “{topic}”…",
    },
    "placeholder_acrostic": {
        "zh": "正在作藏头诗「{heads}」（{form}）…",
        "en": "Writing a {form} acrostic on “{heads}”…",
    },
    "placeholder_position": {"zh": " 排队第 {position} 位", "en": " You are number {position} in the queue."},
    "group_busy": {
        "zh": "本群此刻请求很多：接下来 {seconds} 秒内的请求不再逐一回复“正在作诗…”，诗成后会直接回复各自的消息。用 /queue 查看排队。",
        "en": "Lots of requests in this group: for the next {seconds} s I won't acknowledge each one; every poem "
              "will reply to its own request. Use /queue to see your place.",
    },
    "group_refused": {
        "zh": "本群此刻请求太多，没能接下这几位的请求：{names}。请 {minutes} 分钟后再试。",
        "en": "Too many requests in this group; I could not take these: {names}. Please try again in {minutes} min.",
    },
    "duplicate": {
        "zh": "这个请求已经在处理了，请稍候。",
        "en": "This request is already being handled; please wait.",
    },
    "queue_waiting": {
        "zh": "你的请求排在第 {position} 位，队列中共有 {length} 个请求。",
        "en": "Your request is number {position} of {length} in the queue.",
    },
    "queue_running": {
        "zh": "你的诗正在创作中，马上就好。队列中共有 {length} 个请求。",
        "en": "Your poem is being written right now. {length} requests are queued.",
    },
    "queue_none": {
        "zh": "你目前没有排队中的请求。队列中共有 {length} 个请求。",
        "en": "You have no request in the queue. {length} requests are queued.",
    },
    "cancel_ok": {"zh": "已取消你的请求。", "en": "Your request was cancelled."},
    "cancel_ok_poem": {"zh": "已取消《{topic}》（{form}）。", "en": "Cancelled: “{topic}” ({form})."},
    "cancel_ok_acrostic": {"zh": "已取消藏头诗「{heads}」（{form}）。", "en": "Cancelled: the acrostic on “{heads}” ({form})."},
    "cancel_ok_continue": {"zh": "已取消续写「{first}」（{form}）。", "en": "Cancelled: continuing 「{first}」 ({form})."},
    "cancel_ok_couplet": {"zh": "已取消为「{line}」对句。", "en": "Cancelled: the matching line for 「{line}」."},
    "cancel_none": {
        "zh": "你目前没有可以取消的请求。",
        "en": "You have no queued request to cancel.",
    },
    "cancel_too_late": {
        "zh": "这首诗已经在写了，无法取消；稍后会发给你。",
        "en": "That poem is already being written and can no longer be cancelled; it will arrive shortly.",
    },
    "rate_limited": {
        "zh": "请求太频繁了，请 {seconds} 秒后再试。",
        "en": "Too many requests; please try again in {seconds} s.",
    },
    "rate_limited_chat": {
        "zh": "这个群里请求太频繁了，请 {seconds} 秒后再试。",
        "en": "Too many requests in this chat; please try again in {seconds} s.",
    },
    "queue_full": {
        "zh": "现在作诗的人太多了，请 {seconds} 秒后再试。",
        "en": "The poet is busy right now; please try again in {seconds} s.",
    },
    "service_unavailable": {
        "zh": "作诗服务暂时不可用，请稍后再试。",
        "en": "The poetry service is unavailable right now; please try again later.",
    },
    "internal_error": {
        "zh": "出了点问题，请稍后再试。",
        "en": "Something went wrong; please try again later.",
    },
    "demo_worker_exited": {
        "zh": "⚠ 作诗进程已退出，详情见 {log}",
        "en": "⚠ The poem worker exited; see {log}",
    },
    # ---- poem replies ---------------------------------------------------------------------------
    "poem_footer": {"zh": "—— {form} · 平水韵{rhyme}韵", "en": "— {form} · 平水韵 rhyme group {rhyme}"},
    "poem_footer_no_rhyme": {"zh": "—— {form}", "en": "— {form}"},
    "ci_footer": {"zh": "—— {form} · 词林正韵{rhyme}", "en": "— {form} · 词林正韵 section {rhyme}"},
    "poem_untitled": {"zh": "无题", "en": "无题"},
    # ---- poem cards (/card) ----------------------------------------------------------------------
    "card_how": {
        "zh": "请回复我写的一首诗，再发 /card，我把它做成图片。",
        "en": "Reply to one of my poems with /card and I will make it a picture card.",
    },
    "card_not_poem": {
        "zh": "这条消息里没有我写的诗。请回复一首诗（有《题目》和“——”诗体那一行的）再发 /card。",
        "en": "That message holds none of my poems. Reply with /card to a poem of mine (the one with its 《title》 "
        "and the “—” form line).",
    },
    "card_no_font": {
        "zh": "图片暂时做不出来（服务器上缺少字体），先发文字版：\n\n{poem}",
        "en": "I cannot draw the card right now (the server lacks its font); here is the text:\n\n{poem}",
    },
    "card_no_glyph": {
        "zh": "字体里没有「{chars}」，图片做不出来，先发文字版：\n\n{poem}",
        "en": "The card font has no 「{chars}」, so no picture this time; here is the text:\n\n{poem}",
    },
    "cmd_card": {"zh": "诗卡：回复我的一首诗，把它做成图片", "en": "Poem card: reply to my poem to get it as a picture"},
    "failed": {
        "zh": "抱歉，这首诗没写成（{reason}）。请再试一次，或换个主题。",
        "en": "Sorry, the poem could not be written ({reason}). Please try again or pick another topic.",
    },
    "failed_cancelled": {"zh": "这首诗已取消。", "en": "This poem was cancelled."},
    "failed_timeout": {
        "zh": "抱歉，作诗超时了。请稍后再试。",
        "en": "Sorry, writing the poem timed out. Please try again later.",
    },
    "failed_crashed": {
        "zh": "抱歉，作诗服务多次中断，这首诗没能写成。请稍后再试。",
        "en": "Sorry, the poem service stopped several times while writing this poem. Please try again later.",
    },
    "failed_internal": {
        "zh": "抱歉，作诗时出了点问题。请稍后再试。",
        "en": "Sorry, something went wrong while writing the poem. Please try again later.",
    },
    "failed_version": {
        "zh": "抱歉，机器人与作诗服务版本不一致。请稍后再试。",
        "en": "Sorry, the bot and the poem service disagree on versions. Please try again later.",
    },
    # ---- command menu (setMyCommands / slash commands; short: Discord allows 100 characters) -----
    "cmd_poem": {"zh": "按主题作诗，例如 /poem 秋月 七绝", "en": "A poem on a topic, e.g. /poem 秋月 七绝"},
    "cmd_ci": {"zh": "按词牌填词，例如 /ci 浣溪沙 秋思", "en": "A 词 to a tune, e.g. /ci 浣溪沙 秋思"},
    "cmd_acrostic": {"zh": "藏头诗，例如 /cang 春夏秋冬 七绝", "en": "An acrostic poem, e.g. /cang 春夏秋冬 七绝"},
    "cmd_check": {"zh": "检查一首诗的平仄和押韵", "en": "Check a poem's tones and rhymes"},
    "cmd_rhyme": {"zh": "查一个字的声调、韵部与名句（查韵）", "en": "Look up a character's tones, rhyme groups and famous lines"},
    "cmd_yun": {"zh": "列出一个韵部的常用韵字（韵部）", "en": "List a rhyme group's most used characters"},
    "cmd_forms": {"zh": "支持的诗体", "en": "Supported forms"},
    "cmd_queue": {"zh": "我的排队位置", "en": "My place in the queue"},
    "cmd_cancel": {"zh": "取消我排队中的请求", "en": "Cancel my queued request"},
    "cmd_help": {"zh": "用法说明", "en": "How to use this bot"},
    "cmd_fhl": {"zh": "飞花令，例如 /fhl 月 或 /fhl 花 古法 对战", "en": "Play 飞花令, e.g. /fhl 月 or /fhl 花 古法 对战"},
    "cmd_answer": {"zh": "飞花令作答，例如 /a 举头望明月", "en": "Answer in 飞花令, e.g. /a 举头望明月"},
    "cmd_hint": {"zh": "飞花令提示（每局 3 次）", "en": "A 飞花令 hint (3 per game)"},
    "cmd_stop": {"zh": "结束本局飞花令（开局的人）", "en": "End the 飞花令 game (its starter)"},
    "cmd_rank": {"zh": "本群飞花令排行", "en": "This chat's 飞花令 leaderboard"},
    # ---- parse errors ---------------------------------------------------------------------------
    "err_too_long": {
        "zh": "消息太长了（{length} 字），最多 {limit} 字。例如 /poem 秋月 七绝",
        "en": "The message is too long ({length} characters; at most {limit}). Example: /poem 秋月 七绝",
    },
    "err_unknown_command": {
        "zh": "不认识的命令 {command}。发送 /help 查看用法，例如 /poem 秋月 七绝",
        "en": "Unknown command {command}. Send /help for usage, e.g. /poem 秋月 七绝",
    },
    "err_topic_missing": {
        "zh": "请告诉我主题，例如 /poem 秋月 七绝",
        "en": "Please give a topic, e.g. /poem 秋月 七绝",
    },
    "err_topic_too_long": {
        "zh": "主题太长了（{length} 个字），最多 {limit} 个汉字。请用一两个词，例如 /poem 秋月 七绝",
        "en": "The topic is too long ({length} characters; at most {limit} Chinese characters). "
        "Use a word or two, e.g. /poem 秋月 七绝",
    },
    "err_topic_not_han": {
        "zh": "主题只能用汉字，“{bad}”不行。例如 /poem 秋月 七绝",
        "en": "Topics must be Chinese characters; “{bad}” is not. Example: /poem 秋月 七绝",
    },
    "err_topic_latin": {
        "zh": "我只会写中文诗，请用汉字写主题（收到的是“{bad}”）。例如 /poem 秋月 七绝",
        "en": "I write Chinese poems only, so the topic must be in Chinese characters (got “{bad}”). "
        "Example: /poem 秋月 七绝 (autumn moon)",
    },
    "err_unknown_form": {
        "zh": "不支持的诗体“{form}”。可选：{forms}。例如 /poem 秋月 七绝",
        "en": "Unsupported form “{form}”. Choose one of: {forms}. Example: /poem 秋月 七绝",
    },
    "err_form_conflict": {
        "zh": "只能选一种诗体（收到了 {forms}）。例如 /poem 秋月 七绝",
        "en": "Choose one form only (got {forms}). Example: /poem 秋月 七绝",
    },
    "err_rhyme_unknown": {
        "zh": "不认识的韵部“{rhyme}”。请用平水韵韵部或一个字，例如 韵=东、韵=鸟（仄声字写仄韵绝句）。平声韵部：{groups}",
        "en": "Unknown rhyme group “{rhyme}”. Use a 平水韵 group or one character, e.g. rhyme=东, or rhyme=鸟 "
        "(an oblique-tone character writes a 仄韵 quatrain). Level-tone groups: {groups}",
    },
    "err_rhyme_ze": {
        "zh": "“{rhyme}”是仄韵：仄韵只写绝句（五绝、七绝），{form}押平声。例如 /poem 秋月 七绝 仄韵，或为{form}选平声韵部 韵=东",
        "en": "“{rhyme}” is an oblique (仄) rhyme: only quatrains (五绝, 七绝) are written in 仄 rhyme, and a {form} "
        "rhymes in 平. Example: /poem 秋月 七绝 仄韵, or a level-tone group for the {form}: rhyme=东",
    },
    "err_rhyme_ping": {
        "zh": "{form}押仄声韵，“{rhyme}”是平声。请选仄声韵部或仄声字，例如 韵=鸟",
        "en": "A {form} rhymes in 仄; “{rhyme}” is level-tone. Choose an oblique-tone group or character, e.g. rhyme=鸟",
    },
    "err_rhyme_ambiguous": {
        "zh": "“{rhyme}”有几个读音可押（{options}），请直接写韵部，例如 韵={options}",
        "en": "“{rhyme}” rhymes in several groups ({options}); name the group, e.g. rhyme={options}",
    },
    "err_bu_unknown": {
        "zh": "“{rhyme}”定不出词林正韵的一个部。请写 部=1 到 19，或 韵=某字，例如 /ci 浣溪沙 秋思 部=7",
        "en": "“{rhyme}” names no single 词林正韵 section. Write 部=1..19 or rhyme=<a character>, "
        "e.g. /ci 浣溪沙 秋思 部=7",
    },
    "err_bu_tone": {
        "zh": "{form}的韵与“{rhyme}”的声调不合（入声韵用第十五至十九部，平、仄韵用第一至十四部），例如 /ci 满江红 怀古 部=18；"
        "发送 /ci 查看各词牌的韵",
        "en": "{form}'s rhyme does not take “{rhyme}” (入声 rhymes use 部 15-19, level and oblique ones 部 1-14), "
        "e.g. /ci 满江红 怀古 部=18; send /ci to see each 词牌's rhyme",
    },
    "err_ci_unknown": {
        "zh": "没有“{cipai}”这个词牌的词谱。相近的有：{near}。例如 /ci 浣溪沙 秋思；发送 /ci 列出全部词牌",
        "en": "No chart for the 词牌 “{cipai}”. Nearest: {near}. Example: /ci 浣溪沙 秋思; send /ci for the full list",
    },
    "err_ci_missing": {
        "zh": "请写明词牌，例如 /ci 浣溪沙 秋思；发送 /ci 列出全部词牌",
        "en": "Name the 词牌 (tune), e.g. /ci 浣溪沙 秋思; send /ci for the full list",
    },
    "err_ci_shi": {
        "zh": "{form}是诗体，不是词牌。作诗请用 /poem 秋月 {form}；填词例如 /ci 浣溪沙 秋思",
        "en": "{form} is a poem form, not a 词牌. For a poem: /poem 秋月 {form}; for a 词, e.g. /ci 浣溪沙 秋思",
    },
    "ci_list_header": {
        "zh": "可填的词牌（{count} 个，由宋词统计词谱；字数 · 韵）：",
        "en": "词牌 I can write ({count}, charts derived from the Song 词; characters · rhyme):",
    },
    "ci_list_line": {"zh": "{name}：{chars} 字 · {rhyme}{aliases}", "en": "{name}: {chars} chars · {rhyme}{aliases}"},
    "ci_list_footer": {
        "zh": "例如 /ci 浣溪沙 秋思、/ci 如梦令 春晚 部=8、/poem 秋思 蝶恋花 繁",
        "en": "Examples: /ci 浣溪沙 秋思, /ci 如梦令 春晚 部=8, /poem 秋思 蝶恋花 trad",
    },
    "err_rhyme_conflict": {
        "zh": "只能选一个韵部（收到了 {rhymes}）。例如 /poem 秋月 韵=东",
        "en": "Choose one rhyme group only (got {rhymes}). Example: /poem 秋月 rhyme=东",
    },
    "err_option_empty": {
        "zh": "“{option}”后面缺少内容。例如 /poem 秋月 韵=东",
        "en": "“{option}” needs a value. Example: /poem 秋月 rhyme=东",
    },
    "err_unknown_option": {
        "zh": "不认识的选项“{option}”。可用的选项：韵=东、体=七绝、繁。例如 /poem 秋月 七律 韵=东",
        "en": "Unknown option “{option}”. Options: rhyme=东, form=七绝, trad. Example: /poem 秋月 七律 rhyme=东",
    },
    "err_heads_missing": {
        "zh": "请给出藏头字，每句一个，例如 /cang 春夏秋冬 七绝",
        "en": "Give the head characters, one per line, e.g. /cang 春夏秋冬 七绝",
    },
    "err_heads_not_han": {
        "zh": "藏头字只能是汉字，“{bad}”不行。例如 /cang 春夏秋冬 七绝",
        "en": "Head characters must be Chinese characters; “{bad}” is not. Example: /cang 春夏秋冬 七绝",
    },
    "err_heads_count": {
        "zh": "{form}有 {n_lines} 句，藏头字要 {n_lines} 个，你给了 {count} 个（{heads}）。"
        "例如 /cang 春夏秋冬 {example_form}",
        "en": "A {form} has {n_lines} lines, so it needs {n_lines} head characters; you gave {count} ({heads}). "
        "Example: /cang 春夏秋冬 {example_form}",
    },
    "err_heads_count_any": {
        "zh": "藏头字的个数要等于诗的句数（{counts} 个），你给了 {count} 个（{heads}）。例如 /cang 春夏秋冬 七绝",
        "en": "The number of head characters must equal the number of lines ({counts}); you gave {count} "
        "({heads}). Example: /cang 春夏秋冬 七绝",
    },
    "err_prefix_missing": {
        "zh": "请在 /xu 后面写出要续写的诗句，例如 /xu 白日依山尽 五绝",
        "en": "Put the line(s) to continue after /xu, e.g. /xu 白日依山尽 五绝",
    },
    "err_prefix_not_han": {
        "zh": "续写的诗句要是汉字，「{bad}」不是。例如 /xu 白日依山尽",
        "en": "The lines to continue must be Chinese characters; 「{bad}」 is not. E.g. /xu 白日依山尽",
    },
    "err_prefix_length": {
        "zh": "续写的句子要五个或七个字（五绝、七绝、五律、七律），你给的第一句有 {length} 个字。",
        "en": "Lines to continue have five or seven characters (五绝 七绝 五律 七律); your first has {length}.",
    },
    "err_prefix_line": {
        "zh": "{form}每句 {n} 字，第 {i} 句「{line}」有 {length} 字。",
        "en": "Each line of a {form} has {n} characters; line {i} (「{line}」) has {length}.",
    },
    "err_prefix_full": {
        "zh": "{form}共 {n_lines} 句，你已给了 {count} 句，没有可续的了。换成律诗试试，例如加「五律」。",
        "en": "A {form} has {n_lines} lines and you gave {count}: nothing is left to write. Try a 律诗, e.g. add 五律.",
    },
    "placeholder_continue": {"zh": "正在续写「{first}」（{form}）…", "en": "Continuing 「{first}」 as a {form}…"},
    "continue_faults": {
        "zh": "注意：你给的句子本身不合律：{faults}。我按最接近的格式续写了。",
        "en": "Note: your own lines break the chart: {faults}. I continued with the closest pattern.",
    },
    "placeholder_couplet": {"zh": "正在为「{line}」对句…", "en": "Finding a matching line for 「{line}」…"},
    "couplet_reply": {
        "zh": "{first}，\n{second}。\n\n（对句，押平水韵{rhyme}韵）", "en": "{first}，\n{second}。\n\n(matching line; 平水韵 group {rhyme})",
    },
    "err_couplet_one_line": {"zh": "对句只要一句，例如 /dui 白日依山尽", "en": "Give one line to match, e.g. /dui 白日依山尽"},
    "err_couplet_missing": {
        "zh": "对句：请在 /dui 后面写上出句，我来对下一句，例如 /dui 白日依山尽",
        "en": "Put the line to match after /dui, e.g. /dui 白日依山尽",
    },
    "err_couplet_not_han": {
        "zh": "对句的出句要是汉字，「{bad}」不是。例如 /dui 白日依山尽",
        "en": "The line to match must be Chinese characters; 「{bad}」 is not. E.g. /dui 白日依山尽",
    },
    "err_couplet_length": {
        "zh": "对句的出句要五个或七个字，你给的有 {length} 个字。例如 /dui 白日依山尽 或 /dui 春风又绿江南岸",
        "en": "The line to match has five or seven characters; yours has {length}. E.g. /dui 白日依山尽 or /dui 春风又绿江南岸",
    },
    "cmd_couplet": {"zh": "对句：给一句，我对下一句，例如 /dui 白日依山尽", "en": "A matching line, e.g. /dui 白日依山尽"},
    "cmd_continue": {"zh": "续写：我接着你的诗句写完，例如 /xu 白日依山尽", "en": "Continue your lines, e.g. /xu 白日依山尽"},
    "err_check_missing": {
        "zh": "请在 /check 后面附上要检查的诗，例如 /check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
        "en": "Put the poem after /check, e.g. /check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    },
    # ---- /check results -------------------------------------------------------------------------
    "check_ok": {
        "zh": "✅ 合律：{form}（{variant}），押平水韵{rhyme}韵。",
        "en": "✅ Regular: {form} ({variant}), rhyming in 平水韵 group {rhyme}.",
    },
    "check_bad": {
        "zh": "❌ 按{form}检查，有 {count} 处不合律：",
        "en": "❌ Checked as {form}: {count} problem(s):",
    },
    "check_ao": {
        "zh": "△ 拗（可容，不算犯律）{count} 处：",
        "en": "△ 拗, tolerated (not a fault): {count}",
    },
    "check_rescue": {
        "zh": "↺ {note}",
        "en": "↺ licence: {note}",
    },
    "check_suggest": {
        "zh": "💡 第{line}句第{pos}字“{char}”可换：{options}",
        "en": "💡 line {line}, char {pos} ({char}): try {options}",
    },
    "check_gu_tone_ping": {"zh": "平韵", "en": "rhyming in 平"},
    "check_gu_tone_ze": {"zh": "仄韵", "en": "rhyming in 仄"},
    "check_gu_ok": {
        "zh": "✅ {form}（{tone}，押{rhyme}韵）：古体，不拘平仄；押韵无误。",
        "en": "✅ {form}, an old-style quatrain ({tone}, group {rhyme}): 古体 keeps no tone chart; the rhyme is right.",
    },
    "check_gu_bad": {
        "zh": "❌ {form}（{tone}，押{rhyme}韵）：古体，不拘平仄；押韵有 {count} 处不合：",
        "en": "❌ {form}, an old-style quatrain ({tone}, group {rhyme}): 古体 keeps no tone chart, but {count} "
        "rhyme problem(s):",
    },
    "check_reference": {
        "zh": "ℹ 参考：按律绝的格律有 {count} 处不合（古体不必守）：",
        "en": "ℹ For reference, against the rules of a regulated 绝句 (which 古体 need not keep): {count}",
    },
    "check_reference_ze": {
        "zh": "ℹ 参考：按入律的仄韵绝句（二四分明、粘对）有 {count} 处不合（古体不必守）：",
        "en": "ℹ For reference, against the chart of a 仄韵 绝句 that follows the tones (2nd/4th characters, "
        "粘 and 对; 古体 need not): {count}",
    },
    "check_gu_as_jue": {
        "zh": "要按律绝检查，请写明体裁：/check {form} {head}……",
        "en": "To have it checked as a regulated 绝句, name the form: /check {form} {head}…",
    },
    "rhyme_head": {"zh": "“{char}”：{tones}", "en": "{char}: {tones}"},
    "rhyme_head_folded": {"zh": "“{char}”（按“{key}”查）：{tones}", "en": "{char} (looked up as {key}): {tones}"},
    "rhyme_tones_ping": {"zh": "平声", "en": "level tone (平)"},
    "rhyme_tones_ze": {"zh": "仄声", "en": "oblique tone (仄)"},
    "rhyme_tones_ze_sounds": {"zh": "仄声（{sounds}）", "en": "oblique tone (仄: {sounds})"},
    "rhyme_tones_both": {"zh": "平仄两读", "en": "both tones (平 and 仄)"},
    "rhyme_tones_both_readings": {"zh": "平仄两读（平：{ping}；仄：{ze}）", "en": "both tones (平: {ping}; 仄: {ze})"},
    "rhyme_reading": {
        "zh": "• 平水韵{label}韵（{tone}），词林正韵{bu}；诗中押此韵 {uses} 次",
        "en": "• 平水韵 group {label} ({tone}), 词林正韵 {bu}; rhymed so {uses} times in the corpus",
    },
    "rhyme_reading_ze": {
        "zh": "• 平水韵{label}韵（仄·{sound}），词林正韵{bu}；仄韵诗中押此韵 {uses} 次",
        "en": "• 平水韵 group {label} (仄, {sound}), 词林正韵 {bu}; rhymed so {uses} times in the corpus's 仄韵 poems",
    },
    "rhyme_no_group": {"zh": "• 平水韵表中无此字", "en": "• not in the 平水韵 table"},
    "rhyme_line": {"zh": "「{text}」——{source}", "en": "「{text}」 — {source}"},
    "rhyme_unknown": {"zh": "查不到“{char}”的声调与韵部。", "en": "No tone or rhyme group known for {char}."},
    "yun_head": {
        "zh": "{gid}，按诗中押韵次数排列（前 {count} 字）：",
        "en": "{gid}, most rhymed first (top {count}):",
    },
    "yun_head_ze": {
        "zh": "{gid}（仄·{sound}），按仄韵诗中押韵次数排列（前 {count} 字）：",
        "en": "{gid} (仄, {sound}), most rhymed in the corpus's 仄韵 poems first (top {count}):",
    },
    "yun_head_unranked": {
        "zh": "{gid}：语料中没有押此韵的诗，无次数可排，依字码列出 {count} 字：",
        "en": "{gid}: no poem in the corpus rhymes in this group, so there are no counts; {count} characters "
        "in code-point order:",
    },
    "yun_unrhymed": {"zh": "语料中未见押此韵（依字码）：{chars}", "en": "never rhymed here in the corpus (code-point order): {chars}"},
    "yun_unknown": {
        "zh": "没有名为“{label}”的韵部。请写韵目，如 /yun 东、/yun 一先、/yun 上平一东。",
        "en": "No rhyme group named {label}. Give a group name, e.g. /yun 东, /yun 一先, /yun 上平一东.",
    },
    "err_rhyme_missing": {"zh": "请在 /rhyme 后写一个字，如 /rhyme 行", "en": "Put one character after /rhyme, e.g. /rhyme 行"},
    "err_rhyme_one_char": {"zh": "/rhyme 只查一个汉字，如 /rhyme 行", "en": "/rhyme looks up one Chinese character, e.g. /rhyme 行"},
    "err_yun_missing": {"zh": "请在 /yun 后写韵目，如 /yun 东", "en": "Put a rhyme group after /yun, e.g. /yun 东"},
    "ci_ok": {"zh": "✅ 合谱：{cipai}（{shape}），依语料所得词谱。", "en": "✅ Fits the 词谱 of {cipai} ({shape}), as derived from the corpus."},
    "ci_bad": {"zh": "❌ 按{cipai}（{shape}）检查，有 {count} 处犯律：", "en": "❌ Checked as {cipai} ({shape}): {count} fault(s):"},
    "check_shape": {
        "zh": "{reason}\n例如 /check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
        "en": "{reason}\nExample: /check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    },
    # ---- 飞花令 -----------------------------------------------------------------------------------
    "fhl_help": {
        "zh": "飞花令：/fhl 月 开局（不写令字则由我出题；加「古法」则第 n 句令字在第 n 字，加「对战」与我对诗，"
        "「简单」让我弱一些；「限时=30」改每句时限）。\n/a 句子 作答（也可回复我的消息），/hint 提示，/stop 结束，/rank 排行。一次只答一句。\n接句：/jieju 我出上句你接下句（/jieju 上 反过来；可加 蒙学、常见、全库、题数=5）。\n"
        "猜诗句：/cai 猜一句名句（/cai 5、/cai 7 定字数），每猜一句都标出 🟩 字对位置对、🟨 有这个字位置不对、⬜ 没有这个字。\n"
        "一个群同时只玩一局。\n{index}",
        "en": "飞花令: /fhl 月 starts a game (no character: I pick one; add 古法 for the classic positional mode, 对战 to play "
        "against me, 简单 for an easier me, 限时=30 for 30 s per line).\n/a <line> answers (or reply to my message), "
        "/hint for a hint, /stop ends it, /rank shows the leaderboard. One line per answer.\n接句: /jieju shows a famous line, you "
        "give the next one (/jieju 上 for the previous one; add 蒙学, 常见 or 全库, 题数=5).\n"
        "猜诗句: /cai, guess a famous line (/cai 5 or /cai 7 for its length); each guess is marked 🟩 right character, "
        "right place, 🟨 in the line elsewhere, ⬜ absent.\nOne game at a time per chat.\n{index}",
    },
    "fhl_index_full": {"zh": "诗库：完整索引，{lines} 句。", "en": "Line index: full, {lines} lines."},
    "fhl_index_builtin": {
        "zh": "诗库：内置名篇库（{poems} 首，{lines} 句），冷僻些的诗句我可能认不出。",
        "en": "Line index: the built-in one of famous poems ({poems} poems, {lines} lines); I may not know rarer lines.",
    },
    "game_index_builtin": {
        "zh": "（诗库用的是内置名篇库，共 {lines} 句：冷僻些的诗句我可能认不出。）",
        "en": "(I judge with the built-in index of famous poems, {lines} lines: I may not know rarer lines.)",
    },
    "fhl_started": {
        "zh": "🌸 飞花令开局！令字「{token}」· {mode}\n每句须含「{token}」{position}，{timeout} 秒内无人接上即结束。\n用 /a 句子 作答{plain}。",
        "en": "🌸 飞花令 begins! The character is 「{token}」 · {mode}\nEvery line must contain 「{token}」{position}; "
        "the round ends after {timeout} s without an accepted line.\nAnswer with /a <line>{plain}.",
    },
    "fhl_plain_hint": {"zh": "或直接回复我的消息", "en": " or reply to my message"},
    "fhl_mode_free": {"zh": "自由", "en": "free"},
    "fhl_mode_classic": {"zh": "古法", "en": "classic (古法)"},
    "fhl_mode_versus": {"zh": "对战（{level}）", "en": "versus me ({level})"},
    "fhl_level_easy": {"zh": "简单", "en": "easy"},
    "fhl_level_hard": {"zh": "困难", "en": "hard"},
    "fhl_position": {"zh": "（令字须在第 {position} 字）", "en": " (at position {position})"},
    "fhl_position_rule": {
        "zh": "；古法：第 n 句的令字在第 n 字（七句一轮），第一句在第 1 字",
        "en": "; classic: in the n-th line at position n (seven lines a cycle), so the first at position 1",
    },
    "fhl_running": {
        "zh": "本群正在飞花令：令字「{token}」· {mode} · 已接 {turn} 句 · 还剩 {left} 秒{position}\n{scores}",
        "en": "A 飞花令 game is on: 「{token}」 · {mode} · {turn} lines so far · {left} s left{position}\n{scores}",
    },
    "fhl_none": {
        "zh": "现在没有进行中的飞花令。发 /fhl 月 开一局。",
        "en": "No 飞花令 game is running. Start one with /fhl 月.",
    },
    "fhl_accepted": {
        "zh": "✅ {line} —— {source} · {name} +{points} 分（共 {score} 分）{next}",
        "en": "✅ {line} — {source} · {name} +{points} (total {score}){next}",
    },
    "fhl_next_position": {"zh": "\n下一句：「{token}」在第 {position} 字", "en": "\nNext: 「{token}」 at position {position}"},
    "fhl_bot_line": {"zh": "🤖 我接：{line} —— {source}{next}", "en": "🤖 My line: {line} — {source}{next}"},
    "fhl_bot_gives_up": {
        "zh": "🤖 我接不上了，这局你们赢了！", "en": "🤖 I can't find another line: you win this one!",
    },
    "line_corpus_reads": {"zh": "（诗库作「{text}」）", "en": " (the index reads 「{text}」)"},
    "fhl_not_found": {"zh": "❌ 「{line}」不在诗库里。", "en": "❌ 「{line}」 is not in the line index."},
    "fhl_near_miss": {
        "zh": "❌ 没背熟：原句是「{real}」—— {source}", "en": "❌ Almost: the real line is 「{real}」 — {source}",
    },
    "fhl_repeat": {"zh": "❌ 「{line}」已经有人用过（{name}）。", "en": "❌ 「{line}」 was already used (by {name})."},
    "fhl_no_token": {"zh": "❌ 「{line}」里没有令字「{token}」。", "en": "❌ 「{line}」 does not contain 「{token}」."},
    "fhl_wrong_position": {
        "zh": "❌ 古法：这一句的「{token}」要在第 {position} 字。",
        "en": "❌ Classic mode: 「{token}」 must be at position {position} in this line.",
    },
    "fhl_too_short": {"zh": "❌ 太短了：一句至少 {min} 个汉字。", "en": "❌ Too short: a line has at least {min} characters."},
    "fhl_too_long": {
        "zh": "❌ 太长了：只答一句（最多 {max} 个汉字）。", "en": "❌ Too long: answer one line (at most {max} characters).",
    },
    "fhl_answer_missing": {"zh": "请在 /a 后面写一句诗，例如 /a 举头望明月", "en": "Put a line after /a, e.g. /a 举头望明月"},
    "game_one_line": {
        "zh": "❌ 一次只答一句，例如 /a {example}", "en": "❌ One line per answer, e.g. /a {example}",
    },
    "game_other_running": {
        "zh": "❌ 这里正在玩{running}，一次只能玩一局。{how}，再开{wanted}。",
        "en": "❌ A game of {running} is on here, and one game runs at a time. {how}, then start {wanted}.",
    },
    "game_stop_how": {"zh": "玩完或发 /stop 结束它", "en": "Finish it or end it with /stop"},
    "game_stop_how_starter": {
        "zh": "玩完，或由开局的{name}发 /stop 结束它", "en": "Finish it, or {name}, who started it, ends it with /stop",
    },
    "game_name_fhl": {"zh": "飞花令", "en": "飞花令 (flying flowers)"},
    "game_name_jieju": {"zh": "接句", "en": "接句 (complete the line)"},
    "game_name_cai": {"zh": "猜诗句", "en": "猜诗句 (guess the line)"},
    "fhl_hint": {
        "zh": "💡 提示（{used}/{max}）：{source}\n{masked}", "en": "💡 Hint ({used}/{max}): {source}\n{masked}",
    },
    "fhl_hint_none": {"zh": "💡 提示用完了（每局 {max} 次）。", "en": "💡 No hints left ({max} per game)."},
    "fhl_hint_nothing": {"zh": "💡 诗库里找不到还能用的句子了。", "en": "💡 The index has no unused line left for this."},
    "fhl_warning": {"zh": "⏳ 还剩 {left} 秒！每句须含「{token}」{position}", "en": "⏳ {left} s left! 「{token}」{position}"},
    "fhl_over": {"zh": "🏁 飞花令结束（令字「{token}」，共 {turn} 句）。\n{scores}", "en": "🏁 飞花令 over (「{token}」, {turn} lines).\n{scores}"},
    "fhl_over_timeout": {"zh": "⌛ 时间到！", "en": "⌛ Time's up! "},
    "fhl_score_line": {"zh": "{medal} {name}：{score} 分（{lines} 句）", "en": "{medal} {name}: {score} ({lines} lines)"},
    "fhl_no_scores": {"zh": "这局没有人得分。", "en": "Nobody scored this time."},
    "fhl_stop_not_yours": {
        "zh": "只有开局的人（{name}）可以结束这局；时间到会自动结束。",
        "en": "Only the player who started the game ({name}) can stop it; it also ends when time runs out.",
    },
    "fhl_bad_token": {
        "zh": "令字要是一个或两个汉字，例如 /fhl 月 或 /fhl 明月；「{bad}」不行。",
        "en": "The game character must be one or two Chinese characters, e.g. /fhl 月 or /fhl 明月; not 「{bad}」.",
    },
    "fhl_bad_option": {
        "zh": "不认识「{option}」。可用：古法、对战、简单、困难、限时=30。", "en": "Unknown option 「{option}」. Try: 古法, 对战, 简单, 困难, 限时=30.",
    },
    "fhl_bad_timeout": {
        "zh": "限时要在 {min} 到 {max} 秒之间，例如 限时=60。", "en": "The time limit must be {min}-{max} s, e.g. 限时=60.",
    },
    "fhl_token_rare": {
        "zh": "诗库里含「{token}」的句子太少（{count} 句），换个令字吧，例如 月、花、春、风。",
        "en": "Too few lines in the index contain 「{token}」 ({count}); pick another, e.g. 月, 花, 春, 风.",
    },
    "fhl_combined": {"zh": "（刚才的几条）\n{items}", "en": "(the last few answers)\n{items}"},
    "rank_header": {
        "zh": "🏆 本群诗词游戏排行（飞花令、接句、猜诗句的得分合计）",
        "en": "🏆 This chat's game leaderboard (飞花令, 接句 and 猜诗句 points together)",
    },
    "rank_header_private": {
        "zh": "🏆 你在这里的诗词游戏得分（飞花令、接句、猜诗句合计）",
        "en": "🏆 Your game points here (飞花令, 接句 and 猜诗句 together)",
    },
    "rank_games": {"zh": "（{games}）", "en": " ({games})"},
    "rank_game": {"zh": "{game} {score}", "en": "{game} {score}"},
    "rank_game_earlier": {"zh": "早先 {score}", "en": "earlier {score}"},
    "rank_all": {"zh": "总榜", "en": "All time"},
    "rank_week": {"zh": "本周", "en": "This week"},
    "rank_line": {
        "zh": "{place}. {name} {score} 分{games} · {lines} 句 · 单局最佳 {best}",
        "en": "{place}. {name} {score}{games} · {lines} lines · best game {best}",
    },
    "rank_empty": {"zh": "（还没有人上榜）", "en": "(nobody yet)"},
    # ---- 接句 ---------------------------------------------------------------------------------------
    "jj_started": {
        "zh": "📜 接句开始！共 {total} 题 · {level} · 每题 {timeout} 秒，接{direction}句，用 /a 作答（或回复我的消息）。",
        "en": "📜 接句 begins! {total} questions · {level} · {timeout} s each: give the {direction} line with /a "
        "(or reply to my message).",
    },
    "jj_question": {
        "zh": "第 {n}/{total} 题：「{prompt}」\n请接{direction}句（{length} 字）",
        "en": "Question {n}/{total}: 「{prompt}」\nThe {direction} line? ({length} characters)",
    },
    "jj_dir_next": {"zh": "下", "en": "next"},
    "jj_dir_prev": {"zh": "上", "en": "previous"},
    "jj_correct": {
        "zh": "✅ {name} 答对了：{answer} —— {source} +{points} 分（共 {score} 分）",
        "en": "✅ {name} got it: {answer} — {source} +{points} (total {score})",
    },
    "jj_near": {"zh": "差一点！再想想。", "en": "Almost! Think again."},
    "jj_wrong": {"zh": "❌ 不对。", "en": "❌ Not that one."},
    "jj_hint_source": {"zh": "💡 提示（{used}/{max}）：出自 {source}", "en": "💡 Hint ({used}/{max}): it is from {source}"},
    "jj_hint_first": {
        "zh": "💡 提示（{used}/{max}）：第一个字是「{first}」，共 {length} 字",
        "en": "💡 Hint ({used}/{max}): it starts with 「{first}」 ({length} characters)",
    },
    "jj_hint_tones": {"zh": "💡 提示（{used}/{max}）：平仄 {pattern}", "en": "💡 Hint ({used}/{max}): tones {pattern}"},
    "jj_hint_none": {"zh": "💡 这题的 {max} 条提示已经用完了。", "en": "💡 All {max} hints for this question are used."},
    "jj_timeout": {"zh": "⌛ 时间到！答案是：{answer} —— {source}", "en": "⌛ Time's up! It was: {answer} — {source}"},
    "jj_over": {"zh": "🏁 接句结束（共 {total} 题）。\n{scores}", "en": "🏁 接句 over ({total} questions).\n{scores}"},
    "jj_stopped": {"zh": "⏹ 这题的答案是：{answer} —— {source}", "en": "⏹ This question's answer: {answer} — {source}"},
    "jj_bad_option": {
        "zh": "不认识「{option}」。可用：上、下、蒙学、常见、全库、题数=5。",
        "en": "Unknown option 「{option}」. Try: 上, 下, 蒙学, 常见, 全库, 题数=5.",
    },
    "jj_bad_count": {"zh": "题数要在 {min} 到 {max} 之间。", "en": "The number of questions must be {min}-{max}."},
    "cai_started": {
        "zh": "🧩 猜诗句：一句 {length} 字的名句，全群共 {max} 次机会。用 /a 猜一句真实的诗句（也可回复我）。\n🟩 字对位置对 🟨 有这个字但位置不对 ⬜ 没有这个字；「平仄」一栏比的是声调。",
        "en": "🧩 猜诗句: a famous {length}-character line; the chat has {max} guesses. Guess real lines with /a "
        "(or reply to me).\n🟩 right character, right place 🟨 in the line elsewhere ⬜ absent; the 平仄 column compares tones.",
    },
    "cai_board": {"zh": "🧩 猜诗句（{length} 字）· 还剩 {left} 次\n{rows}", "en": "🧩 猜诗句 ({length} characters) · {left} left\n{rows}"},
    "cai_guess": {
        "zh": "🧩 第 {n} 猜：{line}　{chars}（还剩 {left} 次）", "en": "🧩 Guess {n}: {line}  {chars} ({left} left)",
    },
    "cai_hint": {
        "zh": "💡 提示（1/1，猜诗句只有这一条）：出自 {source}", "en": "💡 Hint (1/1, the only one in 猜诗句): it is from {source}",
    },
    "cai_row": {"zh": "{line}　{chars}　平仄 {tones}　—— {name}", "en": "{line}  {chars}  tones {tones}  — {name}"},
    "cai_no_rows": {"zh": "（还没有人猜）", "en": "(no guesses yet)"},
    "cai_won": {
        "zh": "🎉 {name} 猜中了：{answer} —— {source} +{points} 分", "en": "🎉 {name} got it: {answer} — {source} +{points}",
    },
    "cai_lost": {"zh": "没有猜中。答案是：{answer} —— {source}", "en": "Nobody got it. It was: {answer} — {source}"},
    "cai_wrong_length": {"zh": "❌ 要猜 {length} 字的句子（这次不算）。", "en": "❌ Guess a {length}-character line (not counted)."},
    "cai_not_a_line": {"zh": "❌ 「{line}」不在诗库里，不算次数。", "en": "❌ 「{line}」 is not in the line index; not counted."},
    "cai_repeat": {"zh": "❌ 「{line}」已经猜过了。", "en": "❌ 「{line}」 was guessed already."},
    "cai_bad_option": {"zh": "可以写 /cai、/cai 5 或 /cai 7（句子的字数）。", "en": "Use /cai, /cai 5 or /cai 7 (the line length)."},
    "cmd_cai": {"zh": "猜诗句：诗词版 Wordle，例如 /cai 7", "en": "猜诗句: a Wordle of verse, e.g. /cai 7"},
    "cmd_jieju": {"zh": "接句：我出上句你接下句，例如 /jieju 或 /jieju 上", "en": "接句: complete the famous line, e.g. /jieju"},
    "demo_as": {"zh": "（接下来以「{name}」的身份发言）", "en": "(speaking as 「{name}」 from now on)"},
    "demo_you": {"zh": "你", "en": "you"},
}


_LANGUAGE = PoetcoreInputError("language", "zh", "en")
"""The engine's language rule asked directly: an input error whose two messages are the language codes."""


def lang(locale: str | None) -> str:
    """Catalogue language for a platform locale: English when it starts with "en", else Chinese.

    The engine's rule (`PoetcoreInputError.message`), not a copy: an engine message passed through
    in a reply and the catalogue's words around it must be in the same language.
    """
    return _LANGUAGE.message(locale)


def t(key: str, locale: str | None = None, /, **params: object) -> str:
    """The message ``key`` in the user's language, with ``params`` filled in."""
    return CATALOGUE[key][lang(locale)].format(**params)
