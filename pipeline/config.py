"""Settings from one TOML file, the environment and CLI flags, in rising order of precedence.

The NCBI API key is read from the environment or the file and never printed: ``Settings.__repr__``
hides it, and nothing that writes outputs receives the whole object.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from corpus.errors import InputError

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
DEFAULT_QUERY = (
    '("immune checkpoint inhibitors"[MeSH Terms] OR "immunotherapy"[MeSH Terms] OR anti-PD-1 OR anti-PD-L1 '
    'OR anti-CTLA-4 OR "checkpoint blockade") AND (resistance OR "drug resistance, neoplasm"[MeSH Terms]) '
    "AND hasabstract"
)
CONFIG_ENV = "RESISTMINE_CONFIG"
DEFAULT_CONFIG_FILE = "resistmine.toml"


@dataclass(frozen=True)
class Settings:
    store: Path = Path("store")
    out: Path = Path("outputs/tables")
    eutils_url: str = DEFAULT_EUTILS_URL
    email: str | None = None
    tool: str = "resistmine"
    api_key: str | None = field(default=None, repr=False)
    query: str = DEFAULT_QUERY
    mindate: str | None = None
    maxdate: str | None = None
    datetype: str = "edat"
    max_records: int = 10_000
    batch_size: int = 200
    timeout: float = 30.0
    max_tries: int = 5
    model: str | None = None
    n_process: int = 1
    max_new_words: int | None = None  # a bulk miner rebuilds its pipeline past this; None: MAX_NEW_WORDS

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the non-``None`` overrides applied (CLI flags left unset stay unset)."""
        known = {f.name for f in fields(self)}
        clean = {k: v for k, v in overrides.items() if v is not None and k in known}
        for key in ("store", "out"):
            if key in clean:
                clean[key] = Path(clean[key])
        return replace(self, **clean)


_ENV = {
    "RESISTMINE_EUTILS_URL": "eutils_url",
    "RESISTMINE_STORE": "store",
    "RESISTMINE_OUT": "out",
    "NCBI_EMAIL": "email",
    "RESISTMINE_EMAIL": "email",
    "NCBI_API_KEY": "api_key",
    "RESISTMINE_API_KEY": "api_key",
}


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Defaults < config file < environment < explicit overrides."""
    settings = Settings()
    config_path = Path(path) if path else _default_config_path()
    if config_path is not None:
        settings = settings.with_overrides(**_read_config(config_path))
    env_values = {attr: os.environ[var] for var, attr in _ENV.items() if os.environ.get(var)}
    settings = settings.with_overrides(**env_values)
    return settings.with_overrides(**overrides)


def _default_config_path() -> Path | None:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    candidate = Path(DEFAULT_CONFIG_FILE)
    return candidate if candidate.is_file() else None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"config file {path} is not valid TOML: {exc}") from None
    section = data.get("resistmine", data)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise InputError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return dict(section)
