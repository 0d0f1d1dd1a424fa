"""The local web workstation's server: a thin FastAPI face over the store (and, later, runs).

>>> from backtestr.server import ServerSettings, create_app          # doctest: +SKIP
>>> app = create_app(ServerSettings(home=Path("~/bt"), port=8765))    # doctest: +SKIP
"""

from backtestr.server.app import create_app
from backtestr.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
