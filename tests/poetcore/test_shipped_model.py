"""The model that ships in the package: present, small, documented, loadable offline, and used by default."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from poetcore.model.modeling import default_model_dir

MODEL = default_model_dir()


def test_shipped_model_files_and_card() -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md"):
        assert (MODEL / name).exists(), f"missing {name} in {MODEL}"
    assert (MODEL / "model.safetensors").stat().st_size < 60 * 2**20
    card = (MODEL / "README.md").read_text()
    for needle in ("chinese-poetry@2.0.1", "valid bpc", "3-gram", "minutes", "MIT"):
        assert needle in card, needle
    summary = json.loads((MODEL / "training_summary.json").read_text())
    assert summary["summary"]["best_valid_bpc"] < summary["baseline"]["trigram_valid_bpc"]


def test_default_composer_loads_the_shipped_model_offline(tmp_path) -> None:
    # A fresh interpreter with the hub disabled and no cache: any network or hub access would fail.
    code = (
        "import json; from poetcore.compose import Composer; c = Composer.from_pretrained(); "
        "p = c.compose('秋月', '七绝', n=2, seed=3); print(json.dumps({'ok': p.check().ok, 'lines': p.lines}))"
    )
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] and len(result["lines"]) == 4 and all(len(line) == 7 for line in result["lines"])


def test_poetcore_model_env_overrides_the_default(tiny_model_dir, monkeypatch) -> None:
    from poetcore.cli.main import app

    monkeypatch.setenv("POETCORE_MODEL", str(tiny_model_dir))
    result = CliRunner().invoke(app, ["compose", "秋月", "--seed", "1", "-n", "1", "--json"])
    assert result.exit_code == 0, result.output
    shipped = CliRunner().invoke(app, ["compose", "秋月", "--seed", "1", "-n", "1", "--json"], env={"POETCORE_MODEL": None})
    assert shipped.exit_code == 0, shipped.output
    assert json.loads(result.stdout)["lines"] != json.loads(shipped.stdout)["lines"]  # another model wrote it
