"""The one setting that switches scale-out on: where Redis, Ray and the store are.

Read from a ``[scale]`` section of the TOML file named by ``$POLICYWATCH_CONFIG`` and from
environment variables, which win over the file::

    [scale]
    redis = "redis://127.0.0.1:6379/0"    # $POLICYWATCH_REDIS_URL: the shared crawl frontier
    ray = "127.0.0.1:6380"                # $POLICYWATCH_RAY_ADDRESS: the Ray cluster ("auto" too)
    store = "parts"                       # $POLICYWATCH_STORE: "duckdb" (default) or "parts"
    parts_dir = "/data/policywatch.parts" # $POLICYWATCH_PARTS_DIR (default: DB path + ".parts")

With neither Redis nor Ray named, :attr:`ScaleSettings.enabled` is false and every command runs
on one machine as before.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STORES = ("duckdb", "parts")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

ENV_CONFIG = "POLICYWATCH_CONFIG"
ENV_REDIS = "POLICYWATCH_REDIS_URL"
ENV_RAY = "POLICYWATCH_RAY_ADDRESS"
ENV_STORE = "POLICYWATCH_STORE"
ENV_PARTS = "POLICYWATCH_PARTS_DIR"


class ScaleSettingsError(ValueError):
    """A scale setting that cannot be used, said in one line."""


@dataclass(frozen=True)
class ScaleSettings:
    """Where the shared services are; empty fields mean "run on one machine"."""

    redis_url: str | None = None
    ray_address: str | None = None
    store: str = "duckdb"
    parts_dir: Path | None = None

    @property
    def enabled(self) -> bool:
        """True when any shared service is named."""
        return bool(self.redis_url or self.ray_address)

    def parts_path(self, db_path: str | os.PathLike[str]) -> Path:
        """The folder of Parquet parts for ``db_path`` (``parts_dir`` or ``<db>.parts``)."""
        return self.parts_dir or Path(f"{os.fspath(db_path)}.parts")


def _from_file(path: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScaleSettingsError(f"cannot read {ENV_CONFIG} file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScaleSettingsError(f"{path} is not valid TOML: {exc}") from None
    section = data.get("scale", {})
    if not isinstance(section, dict):
        raise ScaleSettingsError(f"{path}: [scale] must be a table")
    unknown = sorted(set(section) - {"redis", "ray", "store", "parts_dir"})
    if unknown:
        raise ScaleSettingsError(f"{path}: unknown [scale] setting(s): {', '.join(unknown)}")
    return section


def load_scale_settings(environ: Mapping[str, str] | None = None) -> ScaleSettings:
    """The scale settings from ``$POLICYWATCH_CONFIG``'s ``[scale]`` and the environment."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    if env.get(ENV_CONFIG):
        values.update(_from_file(Path(env[ENV_CONFIG])))
    for key, name in (("redis", ENV_REDIS), ("ray", ENV_RAY), ("store", ENV_STORE),
                      ("parts_dir", ENV_PARTS)):
        if env.get(name):
            values[key] = env[name]

    redis_url = str(values["redis"]) if values.get("redis") else None
    if redis_url and not redis_url.startswith(REDIS_SCHEMES):
        raise ScaleSettingsError(
            f"Redis URL {redis_url!r} must start with one of {', '.join(REDIS_SCHEMES)}")
    store = str(values.get("store") or "duckdb").lower()
    if store not in STORES:
        raise ScaleSettingsError(f"store {store!r} must be one of: {', '.join(STORES)}")
    parts = values.get("parts_dir")
    return ScaleSettings(
        redis_url=redis_url,
        ray_address=str(values["ray"]) if values.get("ray") else None,
        store=store,
        parts_dir=Path(str(parts)) if parts else None,
    )
