"""`earlypath.env_settings.number_setting`: the one reading of a numeric environment setting,
for the service's limits (`web.config`), the plan lock's wait (`records.plan_cache`) and the
size from which a plan is specialised (`records.plan_choice`). Each keeps its own words."""

from __future__ import annotations

import pytest

from earlypath.env_settings import number_setting
from earlypath.errors import ConfigError
from earlypath.records import plan_cache, plan_choice
from earlypath.web.config import Settings

NAME = "EARLYPATH_TEST_NUMBER"


def test_a_number_setting_is_its_default_when_blank_and_refused_naming_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def read(raw: str | None, high: int | None = None) -> int:
        if raw is None:
            monkeypatch.delenv(NAME, raising=False)
        else:
            monkeypatch.setenv(NAME, raw)
        return number_setting(NAME, 7, int, "a whole number", 1, high)

    assert read(None) == read("  ") == 7
    assert read(" 12 ") == 12
    with pytest.raises(ConfigError, match=f"^{NAME} must be a whole number, not 'x'$"):
        read("x")
    with pytest.raises(ConfigError, match=f"^{NAME} must be a whole number, not '0'$"):
        read("0")
    with pytest.raises(ConfigError, match=f"^{NAME} must be between 1 and 9, not 10$"):
        read("10", high=9)


def test_the_three_readers_keep_their_defaults_and_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wait, size = plan_cache.LOCK_WAIT_SETTING, plan_choice.SETTING
    for name in (wait, size, "EARLYPATH_HEADER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    assert plan_cache._lock_wait_s() == 900.0
    assert plan_choice.specialise_from_bytes() == plan_choice.DEFAULT_FROM_BYTES
    assert Settings.from_env().header_timeout == 10
    monkeypatch.setenv(wait, "2.5")
    monkeypatch.setenv(size, "1_000")
    assert (plan_cache._lock_wait_s(), plan_choice.specialise_from_bytes()) == (2.5, 1000)
    for raw in ("nan", "-1", "soon"):
        monkeypatch.setenv(wait, raw)
        with pytest.raises(
            ConfigError, match=rf"^{wait} must be a number of seconds \(0 or more\)"
        ):
            plan_cache._lock_wait_s()
    for raw in ("-1", "2MB"):
        monkeypatch.setenv(size, raw)
        with pytest.raises(ConfigError, match=rf"^{size} must be a whole number of bytes \(0 or"):
            plan_choice.specialise_from_bytes()
    monkeypatch.setenv("EARLYPATH_HEADER_TIMEOUT", "0")
    with pytest.raises(ConfigError, match="^EARLYPATH_HEADER_TIMEOUT must be between 1 and 300"):
        Settings.from_env()
