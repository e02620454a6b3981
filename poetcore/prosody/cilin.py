"""词林正韵: the 19 部 词 rhyme in, as groupings of 平水韵 groups, keyed like `RhymeTable`.

Source: 戈载《词林正韵》(1821), which merged the 106 平水韵 groups into 19 部 (14 舒声 with their
平/上/去 tones, 5 入声); the grouping is the published table reproduced in 王力《诗词格律》 and
every 词谱 since. Nine 平水韵 groups are split between two 部 (marked 半 in the table): 灰 贿 队 泰
(第三部 / 第五部), 佳 卦 (第五部 / 第十部), 元 阮 愿 (第六部 / 第七部). 戈载 split them character
by character; we split them by the modern Mandarin final of the character's common reading
(pypinyin), which follows the same sound change: -ei/-uei → 第三部, -ai/-uai/-ie → 第五部;
-a/-ia/-ua → 第十部; -en/-in/-un/-uen → 第六部, -an/-ian/-uan/-van → 第七部.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, pinyin

from poetcore.prosody.rhymes import RhymeTable

__all__ = ["BU_NAMES", "CilinTable"]

BU_NAMES = tuple(f"第{n}部" for n in ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
                                      "十三", "十四", "十五", "十六", "十七", "十八", "十九"))

_WHOLE: dict[int, str] = {  # 部 -> the 平水韵 group labels wholly in it (平 上 去, or 入)
    1: "东冬董肿送宋",
    2: "江阳讲养绛漾",
    3: "支微齐纸尾荠寘未霁",
    4: "鱼虞语麌御遇",
    5: "蟹",
    6: "真文轸吻震问",
    7: "寒删先旱潸铣翰谏霰",
    8: "萧肴豪筿巧皓啸效号",
    9: "歌哿个",
    10: "麻马祃",
    11: "庚青蒸梗迥敬径",
    12: "尤有宥",
    13: "侵寝沁",
    14: "覃盐咸感琰豏勘艳陷",
    15: "屋沃",
    16: "觉药",
    17: "质陌锡职缉",
    18: "物月曷黠屑叶",
    19: "合洽",
}
_SPLIT: dict[str, tuple[int, int, frozenset[str]]] = {  # label -> (部 a, 部 b, finals that go to a)
    **{g: (3, 5, frozenset({"ei", "uei", "i"})) for g in "灰贿队泰"},
    **{g: (10, 5, frozenset({"a", "ia", "ua"})) for g in "佳卦"},
    **{g: (6, 7, frozenset({"en", "in", "un", "uen", "vn"})) for g in "元阮愿"},
}


class CilinTable:
    """Character -> 词林正韵 部 (1-19) for each of its 平水韵 readings."""

    def __init__(self, table: RhymeTable) -> None:
        self.table = table
        self.bu_of_label: dict[str, int] = {label: bu for bu, labels in _WHOLE.items() for label in labels}
        missing = {table.group_label(g) for g in table.group_ids()} - set(self.bu_of_label) - set(_SPLIT)
        if missing:
            raise ValueError(f"平水韵 groups without a 词林正韵 部: {sorted(missing)}")

    def bu(self, ch: str, gid: str) -> int:
        """The 部 of ``ch`` read in 平水韵 group ``gid``."""
        label = self.table.group_label(gid)
        if label in self.bu_of_label:
            return self.bu_of_label[label]
        first, second, finals = _SPLIT[label]
        return first if _final(ch) in finals else second

    def bu_options(self, gid: str) -> frozenset[int]:
        """The 部 a 平水韵 group's characters fall in: one, or two for the split (半) groups."""
        label = self.table.group_label(gid)
        if label in self.bu_of_label:
            return frozenset({self.bu_of_label[label]})
        first, second, _ = _SPLIT[label]
        return frozenset({first, second})

    def bu_of(self, ch: str) -> dict[str, int]:
        """{group id: 部} for every 平水韵 reading of ``ch``."""
        return {gid: self.bu(ch, gid) for gid in sorted(self.table.groups(ch))}

    def rhymes(self, a: str, b: str) -> bool:
        """Whether two characters rhyme in 词 (share a 部 in some reading)."""
        return bool(set(self.bu_of(a).values()) & set(self.bu_of(b).values()))

    @classmethod
    def default(cls) -> CilinTable:
        return _default()


@lru_cache(maxsize=1)
def _default() -> CilinTable:
    return CilinTable(RhymeTable.default())


@lru_cache(maxsize=8192)
def _final(ch: str) -> str:

    return str(pinyin(ch, style=Style.FINALS, strict=True)[0][0])
