"""One open store per server, used by one request or job at a time.

DuckDB locks the catalog for the process that opened it, and one connection must not be used
from two threads at once: the server opens the store once, for its whole life, and serialises
every use of it through :meth:`StoreAccess.use`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backtestr.data.store import Store

__all__ = ["StoreAccess"]


class StoreAccess:
    """The server's store and the lock that serialises its use."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()

    @property
    def home(self) -> Path:
        return self._store.home

    @contextmanager
    def use(self) -> Iterator[Store]:
        with self._lock:
            yield self._store

    def close(self) -> None:
        with self._lock:
            self._store.close()
