"""Settings come from a TOML file, then the environment, then explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bbbfleet.settings import Settings, load_settings


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.checksum_algorithms == ["sha1", "sha256", "sha384", "sha512"]


def test_file_then_environment_then_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bbbfleet.toml"
    config.write_text('port = 9000\npublic_url = "https://bbb.example.org/"\nbackend_timeout = 3\n')
    assert load_settings(config).port == 9000
    assert load_settings(config).public_url == "https://bbb.example.org"
    monkeypatch.setenv("BBBFLEET_PORT", "9100")
    monkeypatch.setenv("BBBFLEET_CHECKSUM_ALGORITHMS", "sha256, SHA512")
    settings = load_settings(config)
    assert settings.port == 9100 and settings.backend_timeout == 3
    assert settings.checksum_algorithms == ["sha256", "sha512"]
    assert load_settings(config, port=9200).port == 9200
    monkeypatch.setenv("BBBFLEET_CONFIG", str(config))
    assert load_settings().backend_timeout == 3


def test_invalid_values_name_the_option() -> None:
    with pytest.raises(ValidationError, match="checksum_algorithms"):
        Settings(checksum_algorithms=["md5"])
    with pytest.raises(ValidationError, match="backend_checksum_algorithm"):
        Settings(backend_checksum_algorithm="crc32")
