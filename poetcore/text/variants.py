"""Variant characters (异体字) that OpenCC t2s leaves alone, mapped to the standard simplified form.

OpenCC t2s maps traditional to simplified but not old variant forms: after t2s the
Tang/Song corpus still has e.g. 隠 (6k tokens), 疎, 簷, 鴈, 鬰, 髪 ... Left as is they
split one character's statistics over two tokens and the model emits forms users
never type. This table was curated from the most frequent non-GB2312 characters
left after t2s (measured counts are in the manifest under `t2s`). It lists only
unambiguous one-to-one variants; characters with two readings in poetry
(祇 qí/zhǐ, 俛 fǔ/miǎn, 槃 in 涅槃, 荅) are deliberately left out.

`LOOSE_VARIANTS` is the other table: characters that stand for one another in verse but are words
of their own elsewhere (祇/只, 沈/沉, 薰/熏). They are never folded; the line index matches a line
up to them (`loose_key`) and shows the corpus text.
"""

from __future__ import annotations

_PAIRS = (
    "隠隐 疎疏 踈疏 簷檐 鴈雁 鬰郁 髪发 頼赖 浄净 徧遍 慙惭 鶑莺 鸎莺 粧妆 劒剑 鬭斗 鬬斗 媿愧 蘂蕊 臯皋 "
    "僊仙 猨猿 髙高 鼇鳌 巵卮 馿驴 櫂棹 煖暖 嬾懒 賸剩 覩睹 牋笺 歛敛 妬妒 隣邻 餠饼 罇樽 閙闹 隄堤 懽欢 "
    "寛宽 彊强 椀碗 盌碗 懃勤 筯箸 鳯凤 峩峨 怱匆 斲斫 斵斫 檝楫 缾瓶 堦阶 畧略 燄焰 迺乃 遯遁 穉稚 潄漱 "
    "犂犁 鏁锁 鼈鳖 飜翻 廻回 囘回 麤粗 悮误 欵款 邉边 磵涧 羮羹 栢柏 覊羁 羇羁 槩概 歳岁 揺摇 逈迥 竝并 "
    "烱炯 暎映 幙幕 顇悴 緜绵 纒缠 輙辄 搆构 朶朵 碁棋 毎每 蠧蠹 憇憩 睠眷 翺翱 鵶鸦 皷鼓 藂丛 廐厩 邨村 "
    "躭耽 瑠琉 氊毡 渇渴 戯戏 効效 蔕蒂 笻筇 姪侄 壻婿 桮杯 醆盏 偪逼 諠喧 呌叫 螘蚁 瓌瑰 濶阔 懐怀 寖浸 "
    "粃秕 蕚萼 髠髡 漥洼 鬛鬣 嚬颦 秔粳 薫熏 䜩宴 倐倏 澣浣 葅菹 旛幡 瑯琅 讐雠"
)

VARIANTS: dict[str, str] = {pair[0]: pair[1] for pair in _PAIRS.split()}
"""Variant character -> standard simplified character."""

_TABLE = str.maketrans(VARIANTS)


def normalize_variants(text: str) -> str:
    """Replace known variant characters; length-preserving (one char to one char)."""
    return text.translate(_TABLE)


_READINGS = (
    "只祇衹秖秪祗 沉沈 熏薰 着著 淡澹 欹攲敧 凋雕 唯惟 栏阑 蓑簑 余馀 摇飖 销消 袅褭嬝 仿彷髣 佛髴 那哪 "
    "蛾娥 溯泝遡 樽尊 答荅 窗牕窓 早蚤 歧岐 梨棃 帏帷"
)

LOOSE_VARIANTS: dict[str, str] = {ch: group[0] for group in _READINGS.split() for ch in group[1:]}
"""Characters that editions and typists write for one another in verse, each -> its group's first.

Unlike `VARIANTS` these are not folded by `normalize_variants`: each has a meaning of its own
elsewhere (沈 the surname, 著 zhù, 澹台, 消 beside 销), so the corpus keeps them as written. A line
that differs from a corpus line only by such characters is the same line to the games (钟山只隔 for
the package's 钟山祇隔, 沉舟侧畔 for 沈舟侧畔, 暖风熏得 for 暖风薰得); `loose_key` is how they meet."""

_LOOSE = str.maketrans(LOOSE_VARIANTS)


def loose_key(text: str) -> str:
    """``text`` with every `LOOSE_VARIANTS` character replaced by its group's first; length-preserving."""
    return text.translate(_LOOSE)
