"""Build the committed test fixture `tests/fixtures/corpus/` from a prepared corpus.

    .venv/bin/python scripts/make_fixture.py [--src data/corpus] [--dst tests/fixtures/corpus]

Deterministic: poems are ranked by sha1("fixture:" + id) inside each (split, form), and the
first ones are taken, balanced over the four forms (300 train, 50 valid, 50 test). The
manifest is the source manifest with the counts replaced by the fixture's, so running this
twice on the same corpus gives byte-identical files.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
from pathlib import Path
from typing import Any

from poetcore.data.clean import FORM_NAMES
from poetcore.data.corpus import CI_SPLIT_PREFIX, load_split, read_manifest, write_manifest, write_split
from poetcore.data.split import SPLITS

SIZES: dict[str, int] = {"train": 300, "valid": 50, "test": 50}
CI_SIZES: dict[str, int] = {"train": 24, "valid": 3, "test": 3}
"""词 per 词牌 and split; 24 in train is above `MIN_CIPAI_POEMS`, so each 词牌 gets its form token."""
CI_CIPAI = ("浣溪沙", "菩萨蛮")


def _rank(poem: dict[str, Any]) -> str:
    return hashlib.sha1(f"fixture:{poem['id']}".encode()).hexdigest()


def sample(poems: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """n poems spread evenly over the forms (the remainder goes to the first forms), in id-hash order."""
    by_form = {f: sorted((p for p in poems if p["form"] == f), key=_rank) for f in FORM_NAMES}
    quota = {f: n // len(FORM_NAMES) + (i < n % len(FORM_NAMES)) for i, f in enumerate(FORM_NAMES)}
    picked = [p for f in FORM_NAMES for p in by_form[f][: quota[f]]]
    return sorted(picked, key=_rank)


def make_fixture(src: Path, dst: Path, sizes: dict[str, int] = SIZES) -> dict[str, Any]:
    """Write the sampled splits and a manifest to `dst`; return the manifest."""
    manifest = read_manifest(src)
    if manifest is None:
        raise SystemExit(f"{src} has no manifest.json: run `poetcore data prepare --out {src}` first.")
    dst.mkdir(parents=True, exist_ok=True)
    picked = {s: sample(load_split(src, s), sizes[s]) for s in SPLITS}
    for s in SPLITS:
        write_split(dst, s, picked[s])
    ci_counts = {}
    if (src / f"{CI_SPLIT_PREFIX}train.jsonl.gz").is_file():
        for s in SPLITS:
            ci = load_split(src, CI_SPLIT_PREFIX + s)
            chosen = [p for c in CI_CIPAI for p in sorted((p for p in ci if p["cipai"] == c), key=_rank)[: CI_SIZES[s]]]
            ci_counts[s] = write_split(dst, CI_SPLIT_PREFIX + s, sorted(chosen, key=_rank))
    everything = [p for s in SPLITS for p in picked[s]]
    fixture = copy.deepcopy(manifest)
    fixture["poems"] = len(everything)
    fixture["forms"] = {f: sum(p["form"] == f for p in everything) for f in FORM_NAMES}
    fixture["forms_by_dynasty"] = {
        d: {f: sum(p["form"] == f and p["dynasty"] == d for p in everything) for f in FORM_NAMES}
        for d in manifest["forms_by_dynasty"]
    }
    fixture["splits"] = {
        s: {"poems": len(picked[s]), "forms": {f: sum(p["form"] == f for p in picked[s]) for f in FORM_NAMES}}
        for s in SPLITS
    }
    if ci_counts:
        fixture["ci"] = {**manifest.get("ci", {}), "splits": ci_counts, "cipai": len(CI_CIPAI)}
    fixture["fixture"] = {
        "from_poems": manifest["poems"],
        "sizes": sizes,
        "rule": "per (split, form): lowest sha1('fixture:' + id) first, balanced over forms",
        "script": "scripts/make_fixture.py",
    }
    write_manifest(dst, fixture)
    return fixture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("data/corpus"))
    parser.add_argument("--dst", type=Path, default=Path("tests/fixtures/corpus"))
    args = parser.parse_args()
    manifest = make_fixture(args.src, args.dst)
    size = sum(p.stat().st_size for p in args.dst.iterdir())
    print(f"wrote {manifest['poems']} poems to {args.dst} ({size / 1024:.0f} KiB): {manifest['splits']}")


if __name__ == "__main__":
    main()
