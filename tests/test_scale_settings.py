"""The one scale setting: file section, environment override, and refusals in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from scale.settings import ScaleSettingsError, load_scale_settings


def test_no_setting_means_one_machine() -> None:
    settings = load_scale_settings({})
    assert not settings.enabled
    assert settings.store == "duckdb"
    assert settings.parts_path("/data/pw.duckdb") == Path("/data/pw.duckdb.parts")


def test_file_section_and_environment_override(tmp_path: Path) -> None:
    config = tmp_path / "policywatch.toml"
    config.write_text('[scale]\nredis = "redis://127.0.0.1:7000/0"\nray = "127.0.0.1:7001"\n'
                      'store = "parts"\n', encoding="utf-8")
    settings = load_scale_settings({"POLICYWATCH_CONFIG": str(config),
                                    "POLICYWATCH_REDIS_URL": "redis://127.0.0.1:7100/1"})
    assert settings.enabled
    assert settings.redis_url == "redis://127.0.0.1:7100/1"
    assert settings.ray_address == "127.0.0.1:7001"
    assert settings.store == "parts"


@pytest.mark.parametrize("env, message", [
    ({"POLICYWATCH_REDIS_URL": "http://127.0.0.1"}, "must start with"),
    ({"POLICYWATCH_STORE": "postgres"}, "must be one of"),
])
def test_bad_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ScaleSettingsError, match=message):
        load_scale_settings(env)


def test_bad_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[scale]\nredis_url = 'redis://x'\n", encoding="utf-8")
    with pytest.raises(ScaleSettingsError, match="unknown"):
        load_scale_settings({"POLICYWATCH_CONFIG": str(config)})
    with pytest.raises(ScaleSettingsError, match="cannot read"):
        load_scale_settings({"POLICYWATCH_CONFIG": str(tmp_path / "missing.toml")})
