"""Where BackTestr keeps its data: ``--home``, else ``BACKTESTR_HOME``, else the user data dir."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

__all__ = ["HOME_ENV", "resolve_home"]

HOME_ENV = "BACKTESTR_HOME"


def resolve_home(explicit: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The data home to use, made absolute (not created).

    Parameters
    ----------
    explicit
        A path given on the command line or to the API; wins over everything.
    env
        The environment to read ``BACKTESTR_HOME`` from (defaults to ``os.environ``).
    """
    environment = os.environ if env is None else env
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser().resolve()
    from_env = environment.get(HOME_ENV, "")
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_data_dir("backtestr", appauthor=False)).resolve()
