"""Settings from the environment: the shelf limits are whole numbers of at least 1, DATABASE_URL
names PostgreSQL or SQLite, and a bad value is refused with the setting named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings, shard_ids_text


def settings_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return load_settings(env_file=tmp_path / "no.env")


def test_shelf_limits_have_defaults_and_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERVER_ARTICLE_LIMIT", raising=False)
    monkeypatch.delenv("ARTICLE_ADDS_PER_MINUTE", raising=False)
    defaults = load_settings(env_file=tmp_path / "no.env")
    assert (defaults.server_article_limit, defaults.article_adds_per_minute) == (50, 5)
    set_here = settings_from(
        tmp_path, monkeypatch, SERVER_ARTICLE_LIMIT="3", ARTICLE_ADDS_PER_MINUTE=" 1 "
    )
    assert (set_here.server_article_limit, set_here.article_adds_per_minute) == (3, 1)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SERVER_ARTICLE_LIMIT", "0", "must be at least 1"),
        ("SERVER_ARTICLE_LIMIT", "ten", "must be a whole number"),
        ("ARTICLE_ADDS_PER_MINUTE", "2.5", "must be a whole number"),
        ("QUESTION_COOLDOWN_SECONDS", "-1", "cannot be negative"),
        ("RETENTION_DAYS", "soon", "must be a number of days"),
        ("RELOAD_POLL_SECONDS", "0", "must be more than 0 seconds"),
        ("RELOAD_WAIT_SECONDS", "-1", "cannot be negative"),
    ],
)
def test_a_bad_value_is_refused_with_its_setting_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match=f"{name} {says}"):
        settings_from(tmp_path, monkeypatch, **{name: value})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:secret@db.example:5432/articlebot",
        "postgres://bot:secret@db.example/articlebot",
        "sqlite:////var/lib/articlebot/records.db",
    ],
)
def test_database_url_takes_postgresql_as_hosts_hand_it_out_and_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    assert settings_from(tmp_path, monkeypatch, DATABASE_URL=url).database_url == url


def test_another_database_url_is_refused_without_echoing_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL must be a PostgreSQL URL") as refused:
        settings_from(tmp_path, monkeypatch, DATABASE_URL="mysql://bot:hunter2@db.example/bot")
    assert "hunter2" not in str(refused.value)


def test_shards_are_automatic_unless_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARD_COUNT", raising=False)
    monkeypatch.delenv("SHARD_IDS", raising=False)
    automatic = load_settings(env_file=tmp_path / "no.env")
    assert (automatic.shard_count, automatic.shard_ids) == (None, None)
    held = settings_from(tmp_path, monkeypatch, SHARD_COUNT="8", SHARD_IDS="6-7, 0,2-3,2")
    assert (held.shard_count, held.shard_ids) == (8, (0, 2, 3, 6, 7))
    assert shard_ids_text(held.shard_ids) == "0,2-3,6-7"


def test_shard_options_win_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARD_COUNT", "2")
    monkeypatch.setenv("SHARD_IDS", "0")
    settings = load_settings(env_file=tmp_path / "no.env", shard_count=4, shard_ids=(2, 3))
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be at least 1"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0;1"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "range 3-1 backwards: write 1-3"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "2-4"}, r"names shard 4, .* shards are 0 to 3"),
        ({"SHARD_IDS": "0-1"}, r"SHARD_IDS \(--shard-ids\) needs SHARD_COUNT"),
    ],
)
def test_bad_shards_are_refused_saying_what_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: dict[str, str], says: str
) -> None:
    monkeypatch.delenv("SHARD_COUNT", raising=False)
    with pytest.raises(SettingsError, match=says):
        settings_from(tmp_path, monkeypatch, **values)
