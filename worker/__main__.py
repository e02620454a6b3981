"""``python -m worker``: the same as ``poetbot worker``."""

from worker.cli import app

app(prog_name="python -m worker")
