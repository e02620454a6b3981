"""What every game's state shares: plain dataclasses stored as JSON in Redis."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Self

__all__ = ["JsonState"]


class JsonState:
    """``to_dict`` / ``from_dict`` for a game dataclass; keys a newer bot wrote and this one lacks are ignored."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in data.items() if k in fields})
