"""Print a JSON snapshot of what the engine answers, to prove a refactor changed nothing.

Run it before and after a change and diff the two files: the same seeds must give byte-identical
poems (20 requests across the four forms, 藏头, 续写, a chosen rhyme and traditional output), and the
checker must say the same about every poem and 词 of the test fixture.

    python scripts/behaviour_snapshot.py > before.json   # on the old commit
    python scripts/behaviour_snapshot.py > after.json    # on the new one
    cmp before.json after.json
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from poetcore.compose import Composer
from poetcore.prosody.checker import check
from poetcore.prosody.ci_check import check_ci
from poetcore.request import ComposeRequest

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus"

REQUESTS = [
    ComposeRequest("秋月", form="七绝", seed=1),
    ComposeRequest("秋月", form="七绝", seed=2),
    ComposeRequest("送别", form="五绝", seed=3),
    ComposeRequest("春雨", form="五律", seed=4),
    ComposeRequest("登高", form="七律", seed=5),
    ComposeRequest("梅花", form="七绝", seed=6, rhyme="东"),
    ComposeRequest("山居", form="五律", seed=7, rhyme="先"),
    ComposeRequest("", form="七绝", heads="春夏秋冬", seed=8),
    ComposeRequest("", form="五绝", heads="明月清风", seed=9),
    ComposeRequest("", form="五绝", prefix=["白日依山尽"], seed=10),
    ComposeRequest("", form="七绝", prefix=["春风又绿江南岸"], seed=11),
    ComposeRequest("江雪", form="五绝", seed=12, traditional=True),
    ComposeRequest("边塞", form="七律", seed=13, repeat="none"),
    ComposeRequest("夜泊", form="七绝", seed=14, repeat="any"),
    ComposeRequest("思乡", form="五律", seed=15, n=1),
    ComposeRequest("重阳", form="七绝", seed=16, n=4),
    ComposeRequest("", form="七律", heads="风花雪月江山如画", seed=17),
    ComposeRequest("荷塘", form="五绝", seed=18, rhyme="阳"),
    ComposeRequest("", form="五律", prefix=["国破山河在", "城春草木深"], seed=19),
    ComposeRequest("寒食", form="七绝", seed=20),
]


def _rows(name: str) -> list[dict]:
    with gzip.open(FIXTURE / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main() -> None:
    composer = Composer.from_pretrained()
    poems = [p if isinstance(p, Exception) else p.to_dict() for p in
             (composer.compose_batch([r])[0] for r in REQUESTS)]
    poems = [{"error": p.code} if isinstance(p, Exception) else p for p in poems]
    checks = []
    for split in ("train", "valid", "test"):
        for row in _rows(f"{split}.jsonl.gz"):
            text = "".join(line + ("，" if i % 2 == 0 else "。") for i, line in enumerate(row["lines"]))
            checks.append(check(text).to_dict())
    ci_checks = []
    for split in ("train", "valid", "test"):
        for row in _rows(f"ci_{split}.jsonl.gz"):
            text = "".join(seg + mark for seg, mark in zip(row["lines"], row["marks"], strict=False))
            try:
                report = check_ci(text)
                ci_checks.append(report.to_dict() if hasattr(report, "to_dict") else repr(report))
            except Exception as exc:  # a shape the chart lacks: its message is part of the behaviour
                ci_checks.append(f"{type(exc).__name__}: {exc}")
    json.dump({"poems": poems, "checks": checks, "ci_checks": ci_checks}, sys.stdout, ensure_ascii=False,
              indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
