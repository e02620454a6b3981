"""Bots must never pull in torch or transformers, and the worker package keeps them lazy."""

from __future__ import annotations

import subprocess
import sys

from support.workers import REPO_DIR


def test_bots_and_queue_code_import_without_torch() -> None:
    code = (
        "import sys; import bots, bots.cli, worker, worker.client, worker.protocol, worker.replies, worker.metrics, "
        "worker.settings, worker.cli, worker.worker, worker.embedded; "
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules); "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
