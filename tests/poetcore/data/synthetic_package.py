"""Tiny synthetic `chinese-poetry` packages in the real npm layout and JSON schema.

The poems are real (traditional, as in the package); each one exercises one cleaning
rule, so the end-to-end test can check every step count exactly.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

JINGYESI = ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]  # 五绝
CHUSAI = ["秦時明月漢時關，萬里長征人未還。", "但使龍城飛將在，不教胡馬度陰山。"]  # 七绝
SHANJU = [
    "空山新雨後，天氣晚來秋。",
    "明月松間照，清泉石上流。",
    "竹喧歸浣女，蓮動下漁舟。",
    "隨意春芳歇，王孫自可留。",
]  # 五律
DENGGAO = [
    "風急天高猿嘯哀，渚清沙白鳥飛迴。",
    "無邊落木蕭蕭下，不盡長江滾滾來。",
    "萬里悲秋常作客，百年多病獨登臺。",
    "艱難苦恨繁霜鬢，潦倒新停濁酒杯。",
]  # 七律
SONGYOUREN = [
    "青山橫北郭，白水繞東城。",
    "此地一爲別，孤蓬萬里征。",
    "浮雲遊子意，落日故人情。",
    "揮手自茲去，蕭蕭班馬鳴。",
]  # 五律 with 爲
CHUNXIAO = ["春眠不覺曉，處處聞啼鳥。", "夜來風雨聲，花落知多少。"]  # 五绝

RUMENGLING = ["常记溪亭日暮，沉醉不知归路。", "兴尽晚回舟，误入藕花深处。", "争渡，争渡，惊起一滩鸥鹭。"]
HUANXISHA = ["一曲新词酒一杯，去年天气旧亭台。夕阳西下几时回？", "无可奈何花落去，似曾相识燕归来。小园香径独徘徊。"]
CI = [  # 宋词 as in songci/ci.song.*.json (simplified); the expected fate is in each comment
    {"author": "李清照", "paragraphs": RUMENGLING, "rhythmic": "如梦令"},  # kept
    {"author": "晏殊", "paragraphs": HUANXISHA, "rhythmic": "浣溪沙"},  # kept
    {"author": "苏轼", "paragraphs": ["明月几时有（一作“明月何时有”）？把酒问青天。"], "rhythmic": "水调歌头·丙辰中秋"},  # note dropped
    {"author": "佚名", "paragraphs": ["春□不觉晓，处处闻啼鸟。"], "rhythmic": "失调名"},  # placeholder: dropped
    {"author": "李清照", "paragraphs": RUMENGLING, "rhythmic": "如梦令"},  # duplicate: dropped
]

JINGYESI_STRAINS = ["平平平仄平，平仄仄仄平。", "仄平○平仄，平平○仄平。"]


def poem(pid: str, title: str, author: str, paragraphs: list[str]) -> dict[str, Any]:
    return {"author": author, "paragraphs": paragraphs, "title": title, "id": pid}


def sample_package() -> dict[str, Any]:
    """Poems, flags and strains; the expected drop reason is in each id."""
    tang = [
        poem("keep-jingyesi", "靜夜思", "李白", JINGYESI),
        poem("keep-chusai", "出塞", "王昌齡", CHUSAI),
        poem("keep-shanju", "山居秋暝", "王維", SHANJU),
        poem("keep-denggao", "登高", "杜甫", DENGGAO),
        poem("keep-songyouren", "送友人", "李白", SONGYOUREN),
        poem("drop-flagged", "春曉", "孟浩然", CHUNXIAO),
        poem("drop-empty", "無題", "佚名", []),
        poem("drop-missing", "殘句", "佚名", ["春眠不覺□，處處聞啼鳥。", "夜來風雨聲，花落知多少。"]),
        poem(
            "drop-notes",
            "秋雨歎",
            "杜甫",
            ["闌風長雨（一作「東風細雨」）秋紛紛，四海八荒同一雲。", "去馬來牛不復辨，濁涇清渭何當分。"],
        ),
        poem(
            "drop-form",
            "古詩",
            "佚名",
            ["行行重行行，與君生別離。", "相去萬餘里，各在天一涯。", "道路阻且長，會面安可知。"],
        ),
    ]
    song = [poem("drop-duplicate", "夜思", "無名氏", JINGYESI)]
    flagged = [
        dict(poem("drop-flagged", "春曉", "孟浩然", CHUNXIAO), error_type=["内容太少存疑->春眠不覺曉"])
    ]
    strains = [
        {"id": "keep-jingyesi", "strains": JINGYESI_STRAINS},
        {"id": "keep-chusai", "strains": ["平仄平仄仄平平，仄仄平平平仄平。"]},  # one couplet short: mismatch
    ]
    return {"tang": tang, "song": song, "flagged": flagged, "strains": strains, "ci": CI}


def write_package(root: Path, pkg: dict[str, Any]) -> Path:
    """Write the package tree under `root/package/` and return `root`."""
    base = root / "package" / "dist"
    files = {
        "quantangshi/poet.tang.0.json": pkg["tang"],
        "quantangshi/poet.song.0.json": pkg["song"],
        "quantangshi/error/poet.tang.0.json": pkg["flagged"],
        "strains/json/poet.tang.0.json": pkg["strains"],
        "quantangshi/authors.tang.json": [{"name": "李白", "desc": "unused by the pipeline"}],
    }
    if "ci" in pkg:
        files["songci/ci.song.0.json"] = pkg["ci"]
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (root / "package" / "package.json").write_text('{"name": "chinese-poetry", "version": "2.0.1"}')
    return root


def write_tarball(path: Path, pkg: dict[str, Any]) -> Path:
    """The same tree as `write_package`, as an npm-style .tgz (members under `package/`)."""
    tree = write_package(path.parent / (path.name + ".tree"), pkg)
    with tarfile.open(path, "w:gz") as tf:
        for file in sorted((tree / "package").rglob("*")):
            if file.is_file():
                data = file.read_bytes()
                info = tarfile.TarInfo("package/" + file.relative_to(tree / "package").as_posix())
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path
