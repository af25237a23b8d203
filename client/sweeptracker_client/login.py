"""Logging in: check a server URL and API key, and save them for later runs.

`sweeptracker login` and W&B's `wandb.login(key=..., host=...)` both end here.
"""

from __future__ import annotations

from pathlib import Path

from sweeptracker_client import settings
from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError


def check_and_save(base_url: str, api_key: str) -> Path:
    """Verify the key against the server, then write both to the settings file."""
    base_url = settings.normalize_url(base_url)
    with Api(base_url, api_key) as api:
        try:
            api.request("GET", "projects/", params={"limit": 1})
        except SweepTrackerError as error:
            if error.status == 401:
                raise SweepTrackerError(
                    f"the server at {base_url} refused the API key: {_detail(error)}",
                    error.status,
                    error.detail,
                ) from error
            raise
    return settings.write_file({"base_url": base_url, "api_key": api_key})


def login(
    anonymous: str | None = None,
    key: str | None = None,
    relogin: bool | None = None,
    host: str | None = None,
    force: bool | None = None,
    timeout: int | None = None,
    verify: bool = False,
    referrer: str | None = None,
) -> bool:
    """W&B's `wandb.login()`: with `key` (and `host`, the server's URL), check them and
    save them as `sweeptracker login` does; without, say whether a key is set already.

    `host` and `key` default to SWEEPTRACKER_BASE_URL / SWEEPTRACKER_API_KEY, then
    the settings file; WANDB_API_KEY is never read. Raises SweepTrackerError when
    the server refuses the key or nothing is set. `anonymous`, `relogin`, `force`,
    `timeout`, `verify` and `referrer` have no effect (the key is always checked).
    """
    if key is None and host is None:
        found = settings.load()
        found.require("base_url")
        found.require("api_key")
        return True
    found = settings.load(base_url=host, api_key=key)
    check_and_save(found.require("base_url"), found.require("api_key"))
    return True


def _detail(error: SweepTrackerError) -> str:
    if isinstance(error.detail, dict) and "detail" in error.detail:
        return str(error.detail["detail"])
    return error.message
