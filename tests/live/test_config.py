"""`tlsmon live` options: durations, the TOML file, and flags over the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsmon.cli import main
from tlsmon.live.config import ConfigError, LiveConfig, build_config, load_toml, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900.0), ("1h", 3600.0), ("90s", 90.0), ("1d", 86400.0), ("2.5", 2.5), (30, 30.0), (0.5, 0.5)],
)
def test_duration_accepts_seconds_or_a_unit(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15x", "m", "", "-5", 0, True, "1h30m"])
def test_duration_rejects_anything_else(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tlsmon.toml"
    path.write_text(text)
    return path


def test_toml_keys_take_dashes_or_underscores_at_top_level_or_under_live(tmp_path: Path) -> None:
    path = write(tmp_path, 'interface = "eth1"\nbuffer-mb = 128\n[live]\nstats_interval = "2m"\nworkers = 4\n')
    assert load_toml(path) == {"interface": "eth1", "buffer_mb": 128, "stats_interval": 120.0, "workers": 4}


def test_unknown_toml_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "interfase = 'eth1'\n")
    with pytest.raises(ConfigError, match=r"tlsmon.toml: unknown option 'interfase'"):
        load_toml(path)


def test_wrong_type_in_toml_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "workers = 'two'\n")
    with pytest.raises(ConfigError, match=r"tlsmon.toml: workers: expected a positive integer, got 'two'"):
        load_toml(path)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(write(tmp_path, "workers = \n"))


def test_flags_win_over_the_file_and_the_file_over_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, 'interface = "eth1"\noutput = "/srv/tls"\nworkers = 4\nrotate = "5m"\n')
    flags = {"interface": None, "output": None, "workers": 2, "rotate": None, "filter": "tcp port 443"}
    assert build_config(flags, path) == LiveConfig(
        interface="eth1", output="/srv/tls", workers=2, rotate=300.0, filter="tcp port 443"
    )


def test_flags_alone_give_defaults_for_the_rest() -> None:
    config = build_config({"interface": "eth0", "output": "out", "rotate": "1h", "metrics_port": 9101})
    assert config == LiveConfig(interface="eth0", output="out", rotate=3600.0, metrics_port=9101)
    assert (config.workers, config.stats_interval, config.interim_interval) == (1, 60.0, 3600.0)


def test_missing_interface_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no interface"):
        build_config({"output": "out"})


def test_cli_usage_error_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "-o", "out"]) == 2
    err = capsys.readouterr().err
    assert err == "tlsmon live: no interface: give -i/--interface or 'interface' in the config file\n"


def test_cli_bad_rotate_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "-i", "lo", "-o", "out", "--rotate", "soon"]) == 2
    assert capsys.readouterr().err.startswith("tlsmon live: --rotate: not a duration: 'soon'")
