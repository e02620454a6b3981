"""Reading the prepared corpus, and the committed fixture that every other test can rely on."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from poetcore.data import iter_poems, load_split, read_manifest
from poetcore.data.clean import FORM_NAMES, FORMS, STRAIN_MARKS
from poetcore.data.package import sha1_file
from poetcore.data.split import SPLITS, split_of
from poetcore.errors import PoetcoreInputError

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "corpus"
KEYS = ["id", "dynasty", "form", "title", "author", "lines", "strains", "keywords"]


def test_unknown_split_and_missing_corpus_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PoetcoreInputError) as err:
        list(iter_poems(FIXTURE, "dev"))
    assert err.value.code == "unknown_split" and "train" in err.value.message_zh
    with pytest.raises(PoetcoreInputError) as err:
        load_split(tmp_path, "train")
    assert err.value.code == "corpus_missing" and "poetcore data prepare" in err.value.message_en
    assert read_manifest(tmp_path) is None


def test_fixture_has_the_corpus_layout_and_counts() -> None:
    manifest = read_manifest(FIXTURE)
    assert manifest is not None
    assert sum(p.stat().st_size for p in FIXTURE.iterdir()) < 500_000
    for s in SPLITS:
        poems = load_split(FIXTURE, s)
        assert len(poems) == manifest["splits"][s]["poems"]
        assert Counter(p["form"] for p in poems) == {
            f: n for f, n in manifest["splits"][s]["forms"].items() if n
        }
        assert all(split_of(p["id"]) == s for p in poems)
    train = load_split(FIXTURE, "train")
    assert len(train) >= 250 and {p["form"] for p in train} == set(FORM_NAMES)


def test_fixture_poems_are_well_formed() -> None:
    shapes = {form: shape for shape, form in FORMS.items()}
    poems = [p for s in SPLITS for p in iter_poems(FIXTURE, s)]
    assert len({p["id"] for p in poems}) == len(poems)
    assert sum(p["strains"] is not None for p in poems) > len(poems) * 0.8
    assert sum(bool(p["keywords"]) for p in poems) > len(poems) * 0.9
    for p in poems:
        assert list(p) == KEYS
        n_lines, length = shapes[p["form"]]
        assert len(p["lines"]) == n_lines and all(len(line) == length for line in p["lines"])
        if p["strains"] is not None:
            assert [len(s) for s in p["strains"]] == [len(line) for line in p["lines"]]
            assert set("".join(p["strains"])) <= STRAIN_MARKS
        visible = set(p["title"] + "".join(p["lines"]))
        assert len(p["keywords"]) <= 3 and all(set(w) & visible for w in p["keywords"])


def test_make_fixture_is_deterministic(package_tarball: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from poetcore.cli.data import data_app

    corpus = tmp_path / "corpus"
    args = [
        "prepare",
        "--source",
        str(package_tarball),
        "--out",
        str(corpus),
        "--sha1",
        sha1_file(package_tarball),
    ]
    assert CliRunner().invoke(data_app, args).exit_code == 0
    spec = importlib.util.spec_from_file_location("make_fixture", ROOT / "scripts" / "make_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sizes = {"train": 3, "valid": 1, "test": 1}
    first = module.make_fixture(corpus, tmp_path / "a", sizes)
    module.make_fixture(corpus, tmp_path / "b", sizes)
    for name in ("train.jsonl.gz", "valid.jsonl.gz", "test.jsonl.gz", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first["poems"] == sum(len(load_split(tmp_path / "a", s)) for s in SPLITS)
    assert first["poems"] <= 5
