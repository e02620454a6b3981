"""The settings tree: one typed section per component, one strict check over all of them.

Every entry point (``poetcore``, ``poetbot serve|worker|demo``) builds its settings once from the
environment and the env file, then passes the sections down. The env file is shared by every
component on a machine (the bot's tokens sit next to the worker's batch size), so "unknown" has to
mean unknown to *every* component. Components declare their sections as entry points in the
``poetcore.settings`` group (see ``pyproject.toml``); the engine reads that registry and never
imports the layers above it.

Checked before any section is built:

- every ``POETCORE_*`` / ``POETBOT_*`` environment variable, and
- every key of the env file,

must be a setting of some registered section. Otherwise `UnknownSettingError` names the key and
its nearest valid spelling (``POETCORE_MAX_BACH`` -> ``POETCORE_MAX_BATCH``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, TypeVar

from dotenv import dotenv_values
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_FILE_VARIABLE = "POETCORE_ENV_FILE"
"""Names the env file; it is the one variable outside every section."""
DEFAULT_ENV_FILE = "poetcore.env"
"""Read from the working directory when it exists and no other file is named."""
GOVERNED_PREFIXES = ("POETCORE_", "POETBOT_")
"""Environment variables with these prefixes must be known settings."""
SECTION_GROUP = "poetcore.settings"
"""Entry-point group where components register their settings sections."""

Section = TypeVar("Section", bound=BaseSettings)


class UnknownSettingError(ValueError):
    """A setting no component knows: almost always a typo, so it must not be ignored."""

    def __init__(self, key: str, source: str, suggestion: str | None) -> None:
        self.key = key
        self.source = source
        self.suggestion = suggestion
        hint = f"; did you mean {suggestion}?" if suggestion else "; see README.md (Configuration) for every setting"
        super().__init__(f"unknown setting {key} in {source}{hint}")


class EngineSettings(BaseSettings):
    """What the engine itself reads: which model, on which device, in which language to speak."""

    model_config = SettingsConfigDict(env_prefix="POETCORE_", extra="ignore", validate_default=True)

    model: Path | None = Field(default=None, description="model directory; None -> the shipped model")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="auto: CUDA when visible")
    locale: str | None = Field(
        default=None,
        validation_alias=AliasChoices("POETCORE_LOCALE", "locale"),
        description="language of CLI messages; unset -> LC_ALL / LANG",
    )

    def cli_locale(self) -> str:
        """``POETCORE_LOCALE``, else the terminal's locale (read once, here)."""
        return self.locale or os.environ.get("LC_ALL") or os.environ.get("LANG") or ""


def env_names(section: type[BaseSettings]) -> set[str]:
    """The environment names a section reads (upper case), aliases included."""
    prefix = str(section.model_config.get("env_prefix", "")).upper()
    names: set[str] = set()
    for field_name, info in section.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if isinstance(alias, str) else []
        # Aliases spelled in upper case are environment names; lower-case ones are keyword names.
        upper = [c for c in choices if isinstance(c, str) and c == c.upper()]
        names.update(upper or [f"{prefix}{field_name}".upper()])
    return names


def registered_sections() -> list[type[BaseSettings]]:
    """Every section installed components declare (entry-point group ``poetcore.settings``)."""
    found: list[type[BaseSettings]] = [EngineSettings]
    for point in entry_points(group=SECTION_GROUP):
        section = point.load()
        if section not in found:
            found.append(section)
    return found


def known_keys(sections: Iterable[type[BaseSettings]]) -> set[str]:
    keys = {ENV_FILE_VARIABLE}
    for section in sections:
        keys |= env_names(section)
    return keys


def _nearest(key: str, keys: set[str]) -> str | None:
    match = difflib.get_close_matches(key.upper(), sorted(keys), n=1, cutoff=0.6)
    return match[0] if match else None


def check_unknown_keys(
    env_file: Path | None,
    environ: Mapping[str, str] | None = None,
    sections: Iterable[type[BaseSettings]] = (),
) -> None:
    """Raise `UnknownSettingError` for the first governed variable or env-file key nobody reads."""
    keys = known_keys([*registered_sections(), *sections])
    env = os.environ if environ is None else environ
    for name in sorted(env):
        if name.upper().startswith(GOVERNED_PREFIXES) and name.upper() not in keys:
            raise UnknownSettingError(name, "the environment", _nearest(name, keys))
    if env_file is not None:
        for name in dotenv_values(env_file):
            if name.upper() not in keys:
                raise UnknownSettingError(name, str(env_file), _nearest(name, keys))


def env_file_path(explicit: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The env file to read: explicit > $POETCORE_ENV_FILE > ./poetcore.env (only if present)."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"settings file {path} does not exist; create it or drop the option")
        return path
    named = env.get(ENV_FILE_VARIABLE)
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"{ENV_FILE_VARIABLE}={path} does not exist; create it or unset the variable")
        return path
    default = Path(DEFAULT_ENV_FILE)
    return default if default.is_file() else None


def build_section(section: type[Section], env_file: Path | None, overrides: Mapping[str, Any] | None = None) -> Section:
    """One section from env + file, with explicit overrides (CLI options, ``None`` = unset) winning."""
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(clean) - set(section.model_fields)
    if unknown:
        raise TypeError(f"{section.__name__} has no setting(s) {', '.join(sorted(unknown))}")
    return section(_env_file=env_file, **clean)  # type: ignore[call-arg]


def load_sections(
    env_file: str | Path | None, sections: Mapping[str, tuple[type[BaseSettings], Mapping[str, Any] | None]]
) -> dict[str, Any]:
    """An entry point's root: check every key once, then build each named section with its overrides."""
    path = env_file_path(env_file)
    check_unknown_keys(path, sections=[section for section, _ in sections.values()])
    return {name: build_section(section, path, overrides) for name, (section, overrides) in sections.items()}


def load_engine_settings(env_file: str | Path | None = None, **overrides: Any) -> EngineSettings:
    """The ``poetcore`` CLI's settings, after the strict check."""
    engine: EngineSettings = load_sections(env_file, {"engine": (EngineSettings, overrides)})["engine"]
    return engine


__all__ = [
    "DEFAULT_ENV_FILE",
    "ENV_FILE_VARIABLE",
    "EngineSettings",
    "UnknownSettingError",
    "build_section",
    "check_unknown_keys",
    "env_file_path",
    "env_names",
    "known_keys",
    "load_engine_settings",
    "load_sections",
    "registered_sections",
]
