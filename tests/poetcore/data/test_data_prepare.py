"""End to end: `poetcore data prepare` on tiny synthetic packages, through typer's CliRunner."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.data.corpus import iter_poems, load_split, read_manifest
from poetcore.data.package import sha1_file
from poetcore.data.split import split_of

runner = CliRunner()
KEYS = ["id", "dynasty", "form", "title", "author", "lines", "strains", "keywords"]


def _prepare(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["data", "prepare", *args], env=env)  # through the root: it builds the settings
    return result.exit_code, result.output


def test_prepare_from_tarball_writes_splits_and_counts(package_tarball: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    code, output = _prepare(
        "--source", str(package_tarball), "--out", str(out), "--sha1", sha1_file(package_tarball)
    )
    assert code == 0, output
    manifest = read_manifest(out)
    assert manifest is not None
    assert manifest["raw_poems"] == 11 and manifest["poems"] == 5
    assert {s["step"]: s["removed"] for s in manifest["steps"]} == {
        "flagged": 1,
        "empty": 1,
        "missing_char": 1,
        "notes": 1,
        "form": 1,
        "duplicate": 1,
    }
    assert manifest["forms"] == {"五绝": 1, "七绝": 1, "五律": 2, "七律": 1}
    assert manifest["strains"] == {"aligned": 1, "mismatch": 1, "missing": 3}
    # The games' line index is built next to the corpus, from the same package.
    from poetcore.lines import LineIndex

    index = LineIndex(tmp_path / "lines.sqlite")
    assert index.lookup("舉頭望明月") is not None and index.info.name == "full"
    assert manifest["source"] == {"kind": "tarball", "sha1": sha1_file(package_tarball), "verified": True}
    assert sum(s["poems"] for s in manifest["splits"].values()) == 5
    assert "flagged" in output and "五律" in output  # the rich tables

    poems = [p for s in ("train", "valid", "test") for p in iter_poems(out, s)]
    assert len(poems) == 5
    for s in ("train", "valid", "test"):
        assert all(split_of(p["id"]) == s for p in load_split(out, s))
        assert manifest["splits"][s]["poems"] == len(load_split(out, s))
    for p in poems:
        assert list(p) == KEYS
        assert p["dynasty"] == "tang" and p["id"].startswith("tang-")
    by_title = {p["title"]: p for p in poems}
    assert by_title["静夜思"]["lines"] == ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]
    assert by_title["送友人"]["keywords"][0] == "送别"
    assert by_title["出塞"]["keywords"][0] == "边塞"
    assert (out / "keywords_sample.md").read_text(encoding="utf-8").count("| tang-") == 5


def test_prepare_from_folder_and_from_package_dir_agree(package_dir: Path, tmp_path: Path) -> None:
    outs = []
    for i, src in enumerate((package_dir, package_dir / "package")):
        out = tmp_path / f"out{i}"
        code, output = _prepare("--source", str(src), "--out", str(out))
        assert code == 0, output
        outs.append(out)
    for s in ("train", "valid", "test"):
        assert (outs[0] / f"{s}.jsonl.gz").read_bytes() == (outs[1] / f"{s}.jsonl.gz").read_bytes()
    manifest = read_manifest(outs[0])
    assert manifest is not None and manifest["source"]["kind"] == "dir" and manifest["poems"] == 5


def test_rerun_is_skipped_unless_forced(package_tarball: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    sha = sha1_file(package_tarball)
    assert _prepare("--source", str(package_tarball), "--out", str(out), "--sha1", sha)[0] == 0
    train = out / "train.jsonl.gz"
    before = train.stat().st_mtime_ns
    os.utime(train, ns=(before - 10**9, before - 10**9))
    code, output = _prepare("--source", str(package_tarball), "--out", str(out), "--sha1", sha)
    assert code == 0 and "up to date" in output
    assert train.stat().st_mtime_ns == before - 10**9
    code, output = _prepare("--source", str(package_tarball), "--out", str(out), "--sha1", sha, "--force")
    assert code == 0 and train.stat().st_mtime_ns != before - 10**9


def test_output_is_byte_identical_across_runs(package_tarball: Path, tmp_path: Path) -> None:
    sha = sha1_file(package_tarball)
    for name in ("a", "b"):
        assert (
            _prepare("--source", str(package_tarball), "--out", str(tmp_path / name), "--sha1", sha)[0] == 0
        )
    for s in ("train", "valid", "test"):
        assert (tmp_path / "a" / f"{s}.jsonl.gz").read_bytes() == (
            tmp_path / "b" / f"{s}.jsonl.gz"
        ).read_bytes()


def test_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    code, output = _prepare("--source", str(tmp_path / "nope.tgz"), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "source_missing" in output and "nope.tgz" in output and "不存在" in output


def test_wrong_sha_is_a_clear_error(package_tarball: Path, tmp_path: Path) -> None:
    code, output = _prepare("--source", str(package_tarball), "--out", str(tmp_path / "o"))  # pinned sha
    assert code == 1
    assert "sha1_mismatch" in output and sha1_file(package_tarball) in output
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_non_tarball_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "poems.tgz"
    bogus.write_text("这不是压缩包")
    code, output = _prepare("--source", str(bogus), "--out", str(tmp_path / "o"), "--sha1", "")
    assert code == 1 and "source_not_tarball" in output


def test_folder_without_the_package_layout_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, output = _prepare("--source", str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert code == 1 and "source_layout" in output


def test_english_messages_when_the_locale_asks(tmp_path: Path) -> None:
    code, output = _prepare(
        "--source", str(tmp_path / "nope.tgz"), "--out", str(tmp_path / "o"), env={"POETCORE_LOCALE": "en_US"}
    )
    assert code == 1 and "does not exist" in output


def test_missing_npm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no npm on it
    code, output = _prepare("--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "cache"))
    assert code == 1 and "npm_missing" in output and "--source" in output


def test_truncated_tarball_is_a_clear_error(package_tarball: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tgz"
    data = package_tarball.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    code, output = _prepare("--source", str(cut), "--out", str(tmp_path / "o"), "--sha1", "")
    assert code == 1 and ("source_corrupt" in output or "source_not_tarball" in output)


def test_split_files_are_gzip_jsonl(package_tarball: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    assert (
        _prepare("--source", str(package_tarball), "--out", str(out), "--sha1", sha1_file(package_tarball))[0]
        == 0
    )
    with gzip.open(out / "train.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert rows == load_split(out, "train")


def test_prepare_writes_the_ci_splits(package_tarball: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    code, output = _prepare("--source", str(package_tarball), "--out", str(out), "--no-lines", "--sha1", "")
    assert code == 0, output
    manifest = read_manifest(out)
    assert manifest is not None
    ci = manifest["ci"]
    assert (ci["raw"], ci["kept"]) == (5, 3)
    assert ci["dropped"] == {"placeholder": 1, "duplicate": 1}
    records = [p for s in ("train", "valid", "test") for p in iter_poems(out, "ci_" + s)]
    assert sum(ci["splits"].values()) == len(records) == 3
    by_cipai = {r["cipai"]: r for r in records}
    assert set(by_cipai) == {"如梦令", "浣溪沙", "水调歌头"}  # the title after "·" is not part of the 词牌
    rumeng = by_cipai["如梦令"]
    assert rumeng["lines"] == ["常记溪亭日暮", "沉醉不知归路", "兴尽晚回舟", "误入藕花深处", "争渡", "争渡", "惊起一滩鸥鹭"]
    assert rumeng["marks"] == "，。，。，，。"
    assert by_cipai["浣溪沙"]["marks"] == "，。。，。。"  # ？ ends a sentence like 。
    assert by_cipai["水调歌头"]["lines"] == ["明月几时有", "把酒问青天"]  # the editorial note is gone
    for s in ("train", "valid", "test"):
        assert all(split_of(r["id"]) == s for r in load_split(out, "ci_" + s))


def test_tables_command_derives_rhyme_usage_and_seasons(package_tarball: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from poetcore.cli.main import app
    from poetcore.lexicon.copyguard import CorpusLines
    from poetcore.lexicon.rhyme_usage import RhymeUsage
    from poetcore.prosody.rhymes import RhymeTable
    from poetcore.lexicon.seasons import SeasonLexicon

    out = tmp_path / "corpus"
    assert _prepare("--source", str(package_tarball), "--out", str(out), "--no-lines", "--sha1", "")[0] == 0
    result = CliRunner().invoke(app, ["data", "tables", "--data", str(out), "--out", str(tmp_path / "tables"),
                                      "--index", str(tmp_path / "no-index.sqlite")])
    assert result.exit_code == 0, result.output
    guard = CorpusLines.load(tmp_path / "tables" / "corpus_lines.bin")
    assert "举头望明月" in guard and "举头望明日" not in guard  # the decoder's copy guard
    usage = RhymeUsage.load(tmp_path / "tables" / "rhyme_usage.json")
    assert usage.uses("乡", RhymeTable.default().find_group("阳")) == 1  # 静夜思
    assert SeasonLexicon.load(tmp_path / "tables" / "seasons.json").season_of == {}  # too few poems to tell
    assert (tmp_path / "tables" / "bigrams.tsv.gz").is_file()
    missing = CliRunner().invoke(app, ["data", "tables", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "poetcore data prepare" in missing.output
