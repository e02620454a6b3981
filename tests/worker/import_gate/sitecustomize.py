"""Holds one import of a test's subprocess until a file exists: ``TEST_IMPORT_GATE=<module>:<path>``.

Put this directory first on the child's ``PYTHONPATH``. A test can then look at a process while it
is loading (a worker's model: ``torch`` is imported only then) for as long as it likes, instead of
racing the load. Nothing of Poetcore is replaced: the import is only late, as on a slow disk.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

_GATE = os.environ.get("TEST_IMPORT_GATE", "")


class _ImportGate:
    def __init__(self, module: str, path: str) -> None:
        self.module = module
        self.path = path

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == self.module:
            sys.meta_path.remove(self)
            while not os.path.exists(self.path):
                time.sleep(0.01)
        return None  # the real finders import it


if _GATE:
    _module, _, _path = _GATE.partition(":")
    sys.meta_path.insert(0, _ImportGate(_module, _path))
