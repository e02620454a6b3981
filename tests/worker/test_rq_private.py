"""The fence around RQ's private API (worker.rq_private) fails loudly on an RQ it was not written for."""

from __future__ import annotations

import ast

import pytest
import rq
from support.workers import REPO_DIR

from worker import rq_private


def test_the_installed_rq_is_the_one_the_fence_was_written_for() -> None:
    rq_private.check_rq_version(rq.__version__)
    assert rq.__version__.startswith(rq_private.TESTED_RQ + ".")


@pytest.mark.parametrize("version", ["3.0.0", "2.11.1", "1.16.2"])
def test_another_rq_version_is_refused_with_advice(version: str) -> None:
    with pytest.raises(rq_private.RQVersionError, match=rf"RQ {version} is installed; install rq==2\.12\.\*"):
        rq_private.check_rq_version(version)


@pytest.mark.parametrize(
    ("owner", "name"), [(cls, name) for cls, names in rq_private.PRIVATE_NAMES.items() for name in names],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_every_private_member_the_fence_uses_exists(owner: type, name: str) -> None:
    assert hasattr(owner, name), f"RQ {rq.__version__} has no {owner.__name__}.{name}: port worker/rq_private.py"


def test_no_other_module_touches_rq_internals() -> None:
    """Underscore attributes of RQ objects and raw ``rq:`` keys appear only inside the fence."""
    offenders = []
    for path in sorted((REPO_DIR / "worker").rglob("*.py")):
        if path.name == "rq_private.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {
                "_enqueue_job", "_handle_failure", "_status", "_result", "prepare_execution", "prepare_job_execution",
                "handle_execution_ended", "handle_job_success", "handle_job_failure",
            }:
                offenders.append(f"{path.relative_to(REPO_DIR)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("rq:") \
                    and path.name != "keys.py":
                offenders.append(f"{path.relative_to(REPO_DIR)}:{node.lineno} {node.value!r}")
    assert offenders == []
