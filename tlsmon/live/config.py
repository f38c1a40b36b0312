"""Options of ``tlsmon live``, from the command line and a TOML file; flags win.

Every option has one name, the long flag without its dashes (``--buffer-mb`` → ``buffer-mb``); in the TOML
file it may be written with a dash or an underscore, at the top level or under a ``[live]`` table. Durations are
seconds as a number, or a string with a unit: ``"90s"``, ``"15m"``, ``"1h"``, ``"1d"``. A key the file does not
know, or a value of the wrong type, is an error that names the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """An option is missing, unknown or has a bad value; the message says which and where."""


@dataclass(slots=True)
class LiveConfig:
    interface: str = ""
    output: str = ""
    filter: str | None = None
    workers: int = 1
    rotate: float = 900.0  # seconds between file rotations
    snaplen: int = 262144
    buffer_mb: int = 64  # kernel capture buffer per worker
    promisc: bool = True
    user: str | None = None
    group: str | None = None
    metrics_port: int | None = None
    metrics_address: str = ""  # all interfaces
    stats_interval: float = 60.0  # seconds between loss/throughput rows and log lines
    idle_timeout: float = 300.0
    interim_interval: float = 3600.0  # an interim record of a connection at each hour of its age
    max_connections: int = 1_000_000
    log_level: str = "info"
    engine: str = "native"  # "python": the reference engine (pypcap frames, Python decode and tracking)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_DURATIONS = frozenset({"rotate", "stats_interval", "idle_timeout", "interim_interval"})
_LOG_LEVELS = ("debug", "info", "warning", "error")


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as ``"15m"``; ValueError when it is neither or not positive."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2) or "s"]
    else:
        raise ValueError(f"not a duration: {value!r} (use seconds or a number with s, m, h or d)")
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return seconds


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return value


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"expected a port number (1-65535), got {value!r}")
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _engine(value: object) -> str:
    if value not in ("native", "python"):
        raise ValueError(f"expected native or python, got {value!r}")
    return str(value)


def _log_level(value: object) -> str:
    if value not in _LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}, got {value!r}")
    return str(value)


_CHECKS: dict[str, Callable[[object], Any]] = {
    "interface": _string,
    "output": _string,
    "filter": _string,
    "workers": _positive_int,
    "snaplen": _positive_int,
    "buffer_mb": _positive_int,
    "promisc": _boolean,
    "user": _string,
    "group": _string,
    "metrics_port": _port,
    "metrics_address": _string,
    "max_connections": _positive_int,
    "log_level": _log_level,
    "engine": _engine,
    **dict.fromkeys(_DURATIONS, parse_duration),
}
OPTIONS = frozenset(f.name for f in fields(LiveConfig))
assert OPTIONS == frozenset(_CHECKS)


def load_toml(path: str | Path) -> dict[str, object]:
    """The options of a TOML file, keys normalised to the option names, values checked."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    section = data.get("live")
    if isinstance(section, dict):
        data = {**{k: v for k, v in data.items() if k != "live"}, **section}
    options: dict[str, object] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in OPTIONS:
            raise ConfigError(f"{path}: unknown option {key!r}")
        options[name] = _check(name, value, f"{path}: {key}")
    return options


def build_config(flags: Mapping[str, object], config_file: str | Path | None = None) -> LiveConfig:
    """Defaults, overridden by the file's options, overridden by the flags that were given (not None)."""
    merged: dict[str, object] = {}
    if config_file is not None:
        merged.update(load_toml(config_file))
    for name in OPTIONS:
        value = flags.get(name)
        if value is not None:
            merged[name] = _check(name, value, f"--{name.replace('_', '-')}")
    config = LiveConfig(**merged)  # type: ignore[arg-type]
    if not config.interface:
        raise ConfigError("no interface: give -i/--interface or 'interface' in the config file")
    if not config.output:
        raise ConfigError("no output directory: give -o/--output or 'output' in the config file")
    return config


def _check(name: str, value: object, where: str) -> object:
    try:
        return _CHECKS[name](value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
