"""Reading the package for the line index: 宋词 authors whose names the package cut short."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from poetcore.data.line_sources import CI_AUTHOR_FIXES, iter_source_poems
from poetcore.lines import open_line_index

# As the package stores them (songci/宋词三百首.json and songci/ci.song.*.json alike): 镃 and 疁 are gone.
CI300 = [
    {"author": "张", "rhythmic": "宴山亭・燕山亭", "paragraphs": ["幽梦初回，重阴未开，晓色吹成疏雨。"]},
    {"author": "张", "rhythmic": "满庭芳", "paragraphs": ["月洗高梧，露幽草，宝钗楼外秋深。"]},
    {"author": "韩", "rhythmic": "高阳台", "paragraphs": ["频听银签，重燃绛蜡，年华衮衮惊心。"]},
    {"author": "张先", "rhythmic": "天仙子", "paragraphs": ["水调数声持酒听，午醉醒来愁未醒。"]},
]
CI = [{"author": "向", "rhythmic": "如梦令", "paragraphs": ["谁伴明窗独坐，我共影儿两个。"]}]


def _package(root: Path) -> Path:
    songci = root / "package" / "dist" / "songci"
    songci.mkdir(parents=True)
    (songci / "宋词三百首.json").write_text(json.dumps(CI300, ensure_ascii=False), encoding="utf-8")
    (songci / "ci.song.0.json").write_text(json.dumps(CI, ensure_ascii=False), encoding="utf-8")
    return root


def test_authors_the_package_cut_short_are_made_whole(tmp_path: Path) -> None:
    authors = {(p.collection, p.lines[0]): p.author for p in iter_source_poems(_package(tmp_path))}
    assert authors[("宋词三百首", "幽梦初回")] == authors[("宋词三百首", "月洗高梧")] == "张镃"  # not "宋·张"
    assert authors[("宋词三百首", "频听银签")] == "韩疁"
    assert authors[("宋词三百首", "水调数声持酒听")] == "张先"  # whole names stay as they are
    assert authors[("宋词", "谁伴明窗独坐")] == "向□"  # cut short, not known which 向: the gap is shown


def test_every_fix_is_a_longer_name_of_the_same_surname() -> None:
    assert all(len(name) > 1 and name.startswith(surname) and len(head) == 4
               for (surname, head), name in CI_AUTHOR_FIXES.items())


def test_the_shipped_index_names_no_author_by_a_bare_surname() -> None:
    index = open_line_index(None)
    db = sqlite3.connect(f"file:{index.path}?mode=ro", uri=True)
    bare = db.execute("SELECT author, title FROM poems WHERE length(author) = 1").fetchall()
    assert bare == []
    record = index.lookup("幽梦初回")
    assert record is not None and record.source == "宋·张镃《宴山亭・燕山亭》"
