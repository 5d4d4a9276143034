"""Settings: defaults, environment, config file, bad values, and docs that list every setting."""

import re
from pathlib import Path

import pytest

from dailypapers.config import SETTINGS, Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_match_the_config_dataclass() -> None:
    config = load_config({})
    for s in SETTINGS:
        assert str(getattr(config, s.name)) == str(s.default), s.name
    assert config.backend == "sqlite"
    assert config.sqlite_path == Path("data") / "dailypapers.db"


def test_environment_overrides_file(tmp_path: Path) -> None:
    cfg = tmp_path / "dp.toml"
    cfg.write_text('data_dir = "/srv/a"\nport = 9000\n')
    config = load_config({"DAILYPAPERS_CONFIG": str(cfg), "DAILYPAPERS_PORT": "9100"})
    assert config.data_dir == Path("/srv/a")
    assert config.port == 9100


def test_postgres_url_switches_backend() -> None:
    assert load_config({"DAILYPAPERS_DATABASE_URL": "postgresql://u@h/db"}).backend == "postgres"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DAILYPAPERS_PORT": "eighty"}, "DAILYPAPERS_PORT must be a int"),
        ({"DAILYPAPERS_EMBED_PRECISION": "int4"}, "DAILYPAPERS_EMBED_PRECISION"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env)


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "dp.toml"
    cfg.write_text('data_dri = "x"\n')
    with pytest.raises(ConfigError, match="data_dri"):
        load_config({"DAILYPAPERS_CONFIG": str(cfg)})


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in docs]
    assert not missing, f"add to docs/configuration.md: {missing}"
    assert {s.name for s in SETTINGS} == set(Config.__dataclass_fields__)


def test_the_documented_defaults_are_the_real_ones() -> None:
    """Every row of the settings table names a real setting with its real default, and nothing else."""
    docs = (ROOT / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `(DAILYPAPERS_[A-Z_]+)` \| `([^`]*)` \|", docs, flags=re.MULTILINE)
    documented = dict(rows)
    assert len(documented) == len(rows), "a setting is listed twice"
    actual = {s.env: str(s.default) for s in SETTINGS}
    assert documented == actual, {k: (documented.get(k), actual.get(k)) for k in set(documented) | set(actual)
                                  if documented.get(k) != actual.get(k)}  # fmt: skip


def test_the_password_hash_profiles_named_by_the_setting_are_the_hashers() -> None:
    from dailypapers.accounts.passwords import PROFILES
    from dailypapers.config_checks import PASSWORD_HASH_PROFILES

    assert tuple(PROFILES) == PASSWORD_HASH_PROFILES
    assert load_config({}).password_hash == "rfc9106-low-memory"
    with pytest.raises(ConfigError, match="DAILYPAPERS_PASSWORD_HASH must be one of"):
        load_config({"DAILYPAPERS_PASSWORD_HASH": "md5"})
