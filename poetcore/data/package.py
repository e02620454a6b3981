"""Get the `chinese-poetry` npm package and read only the files the pipeline uses.

The package is 85 MB gzipped / 362 MB of JSON; we need about 250 MB of it
(`quantangshi/poet.{tang,song}.*.json`, `quantangshi/error/poet.*.json` and
`strains/json/*.json`). A tarball is streamed member by member (never fully
extracted); a folder (`package/` or its parent) is read in place.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from poetcore.errors import PoetcoreInputError

PACKAGE_NAME = "chinese-poetry"
PACKAGE_VERSION = "2.0.1"
PACKAGE_SHA1 = "b6e7e60d0accac7c723d066a5c360549aab8299d"
TARBALL_NAME = f"{PACKAGE_NAME}-{PACKAGE_VERSION}.tgz"

# Paths inside the npm tarball (always rooted at `package/`).
_POEMS_RE = re.compile(r"package/dist/quantangshi/poet\.(tang|song)\.(\d+)\.json")
_FLAGGED_RE = re.compile(r"package/dist/quantangshi/error/poet\.(tang|song)\.(\d+)\.json")
_STRAINS_RE = re.compile(r"package/dist/strains/json/poet\.(tang|song)\.(\d+)\.json")

ProgressFn = Callable[[int], None]
"""Called with a number of bytes read, to advance a progress bar."""


class CorpusSourceError(PoetcoreInputError):
    """The corpus source is missing, unreadable or not the pinned package."""


@dataclass(frozen=True)
class RawPoem:
    """One poem as stored in the package (traditional characters)."""

    id: str  # our stable id: "<dynasty>-<file*1000+position>"
    source_id: str  # the package's uuid, used to join strains and flags
    dynasty: str
    title: str
    author: str
    paragraphs: tuple[str, ...]


@dataclass
class RawSource:
    """Everything the pipeline reads from the package."""

    poems: list[RawPoem] = field(default_factory=list)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # source_id -> error types
    strains: dict[str, list[str]] = field(default_factory=dict)  # source_id -> strain paragraphs
    sha1: str = ""
    kind: str = ""  # "tarball" or "dir"


def sha1_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha1 of a file, read in 1 MB chunks."""
    h = hashlib.sha1()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch_package(cache_dir: Path, expected_sha1: str | None = PACKAGE_SHA1) -> Path:
    """Return the cached tarball, downloading it with `npm pack` first if needed.

    `npm pack` is the registry's ordinary client and verifies the registry's own
    integrity hash; we additionally pin the sha1 so a re-published tarball is caught.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / TARBALL_NAME
    if not tarball.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise CorpusSourceError(
                "npm_missing",
                "找不到 npm，无法下载语料。请安装 Node.js/npm，或用 --source 指定已下载的 "
                f"{TARBALL_NAME}（npm pack {PACKAGE_NAME}@{PACKAGE_VERSION}）。",
                "npm was not found, so the corpus cannot be downloaded. Install Node.js/npm, or pass "
                f"--source with an already downloaded {TARBALL_NAME} (npm pack {PACKAGE_NAME}@{PACKAGE_VERSION}).",
            )
        proc = subprocess.run(
            [
                npm,
                "pack",
                f"{PACKAGE_NAME}@{PACKAGE_VERSION}",
                "--silent",
                "--pack-destination",
                str(cache_dir),
            ],
            capture_output=True,  # npm lists every file of the package otherwise
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not tarball.is_file():
            tail = (proc.stderr or proc.stdout).strip()[-500:]
            raise CorpusSourceError(
                "npm_failed",
                f"npm pack 失败（退出码 {proc.returncode}）：{tail}\n请检查网络或 npm 配置，或用 --source 指定本地文件。",
                f"npm pack failed (exit {proc.returncode}): {tail}\n"
                "Check the network / npm registry settings, or pass --source with a local copy.",
            )
    if expected_sha1:
        verify_sha1(tarball, expected_sha1)
    return tarball


def verify_sha1(tarball: Path, expected_sha1: str) -> str:
    """Check a tarball against the pinned sha1; return the digest."""
    digest = sha1_file(tarball)
    if digest != expected_sha1.lower():
        raise CorpusSourceError(
            "sha1_mismatch",
            f"{tarball} 的 sha1 是 {digest}，但应为 {expected_sha1}。文件可能损坏或版本不对："
            f"请删除它后重新运行，或确认它是 {PACKAGE_NAME}@{PACKAGE_VERSION}（--sha1 '' 可跳过校验）。",
            f"{tarball} has sha1 {digest} but {expected_sha1} was expected. The file is corrupt or a "
            f"different version: delete it and re-run, or make sure it is {PACKAGE_NAME}@{PACKAGE_VERSION} "
            "(--sha1 '' skips the check).",
        )
    return digest


def check_source(path: Path) -> None:
    """Fail early, with a message saying how to fix it, if `path` cannot be a package source."""
    if not path.exists():
        raise CorpusSourceError(
            "source_missing",
            f"语料来源 {path} 不存在。请给出 {TARBALL_NAME} 的路径或解压后的 package/ 目录。",
            f"Corpus source {path} does not exist. Pass the path of {TARBALL_NAME} or of its extracted package/ folder.",
        )
    if path.is_dir():
        if not (_package_root(path) / "dist" / "quantangshi").is_dir():
            raise CorpusSourceError(
                "source_layout",
                f"{path} 里没有 package/dist/quantangshi/。请指向解压后的 npm 包（package/ 或其上级目录）。",
                f"{path} has no package/dist/quantangshi/. Point --source at the extracted npm package "
                "(the package/ folder or its parent).",
            )
    elif not tarfile.is_tarfile(path):
        raise CorpusSourceError(
            "source_not_tarball",
            f"{path} 不是 tar 包也不是目录。请给出 npm pack 生成的 {TARBALL_NAME} 或解压后的目录。",
            f"{path} is neither a tarball nor a folder. Pass the {TARBALL_NAME} made by npm pack, "
            "or the folder it extracts to.",
        )


def read_source(
    path: Path, expected_sha1: str | None = PACKAGE_SHA1, progress: ProgressFn | None = None
) -> RawSource:
    """Read poems, flagged ids and strains from a tarball or an extracted folder."""
    check_source(path)
    if path.is_dir():
        source = RawSource(kind="dir", sha1=dir_digest(path))
    else:
        digest = verify_sha1(path, expected_sha1) if expected_sha1 else sha1_file(path)
        source = RawSource(kind="tarball", sha1=digest)
    try:
        for name, member in iter_package_files(path, lambda n: _classify(n) is not None, progress):
            _ingest(source, name, member)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise CorpusSourceError(
            "source_corrupt",
            f"读取 {path} 失败：{exc}。文件可能不完整，请删除后重新下载。",
            f"Reading {path} failed: {exc}. The file is probably truncated; delete it and download again.",
        ) from exc
    if not source.poems:
        raise CorpusSourceError(
            "source_empty",
            f"{path} 里没有找到 quantangshi/poet.*.json 诗歌文件。它是 {PACKAGE_NAME} 包吗？",
            f"No quantangshi/poet.*.json poem files found in {path}. Is it the {PACKAGE_NAME} package?",
        )
    # Tar order is arbitrary: sort so "first occurrence" (for de-duplication) is Tang before Song, by file.
    source.poems.sort(key=lambda p: (p.dynasty != "tang", int(p.id.split("-")[1])))
    return source


def _package_root(path: Path) -> Path:
    return path if path.name == "package" else path / "package"


def source_size(path: Path) -> int:
    """Bytes the progress bar will count for `read_source(path)` (compressed bytes for a tarball)."""
    if path.is_dir():
        root = _package_root(path)
        return sum(p.stat().st_size for p in _dir_files(root))
    return path.stat().st_size if path.is_file() else 0


def _classify(name: str) -> str | None:
    for kind, rx in (("poems", _POEMS_RE), ("flagged", _FLAGGED_RE), ("strains", _STRAINS_RE)):
        if rx.fullmatch(name):
            return kind
    return None


class _CountingReader(io.RawIOBase):
    """A file wrapper that reports how many (compressed) bytes were read, for the progress bar."""

    def __init__(self, f: IO[bytes], progress: ProgressFn | None) -> None:
        self._f, self._progress = f, progress

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._f.read(len(b))
        b[: len(data)] = data
        if self._progress:
            self._progress(len(data))
        return len(data)


def iter_package_files(
    path: Path, wanted: Callable[[str], bool], progress: ProgressFn | None = None
) -> Iterator[tuple[str, IO[bytes]]]:
    """(name inside the package, open file) for each wanted file of a tarball or an extracted folder.

    Names are rooted at ``package/`` in both cases (``package/dist/songci/宋词三百首.json``), so one
    pattern serves both. A tarball is read in one streaming pass, nothing written to disk;
    ``progress`` counts compressed bytes for a tarball and file sizes for a folder.
    """
    if path.is_dir():
        root = _package_root(path)
        for file in sorted(root.rglob("*.json")):
            name = "package/" + file.relative_to(root).as_posix()
            if wanted(name):
                with file.open("rb") as opened:
                    yield name, opened
                if progress:
                    progress(file.stat().st_size)
        return
    with path.open("rb") as raw, tarfile.open(fileobj=_CountingReader(raw, progress), mode="r|*") as tf:
        for member in tf:
            if member.isfile() and wanted(member.name):
                extracted = tf.extractfile(member)
                if extracted is not None:
                    yield member.name, extracted


def iter_package_json(path: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, Any]]:
    """(path inside ``dist/``, parsed JSON) for each wanted file: the line index's and the 宋词's reader."""
    prefix = "package/dist/"

    def wanted_in_dist(name: str) -> bool:
        return name.startswith(prefix) and wanted(name.removeprefix(prefix))

    for name, f in iter_package_files(path, wanted_in_dist):
        yield name.removeprefix(prefix), json.load(f)


def _ingest(source: RawSource, name: str, f: IO[bytes]) -> None:
    kind = _classify(name)
    try:
        data: Any = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusSourceError(
            "source_bad_json",
            f"{name} 不是合法的 JSON：{exc}",
            f"{name} is not valid JSON: {exc}",
        ) from exc
    if not isinstance(data, list):
        raise CorpusSourceError(
            "source_bad_json", f"{name} 应该是 JSON 数组。", f"{name} should be a JSON array."
        )
    if kind == "poems":
        m = _POEMS_RE.fullmatch(name)
        assert m is not None
        dynasty, file_no = m.group(1), int(m.group(2))
        for pos, d in enumerate(data):
            paragraphs = d.get("paragraphs") or []
            source.poems.append(
                RawPoem(
                    id=f"{dynasty}-{file_no * 1000 + pos}",
                    source_id=str(d.get("id", "")),
                    dynasty=dynasty,
                    title=str(d.get("title") or ""),
                    author=str(d.get("author") or ""),
                    paragraphs=tuple(str(p) for p in paragraphs if isinstance(p, str)),
                )
            )
    elif kind == "flagged":
        for d in data:
            source.flagged.setdefault(str(d.get("id", "")), []).extend(d.get("error_type") or [])
    elif kind == "strains":
        for d in data:
            source.strains[str(d.get("id", ""))] = [str(s) for s in d.get("strains") or []]


def _dir_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if _classify("package/" + p.relative_to(root).as_posix()))


def dir_digest(path: Path) -> str:
    """Fingerprint of a folder source: sha1 over the used files' names and contents."""
    root = _package_root(path)
    h = hashlib.sha1()
    for p in _dir_files(root):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return "dir:" + h.hexdigest()
