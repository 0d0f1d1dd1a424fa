"""Where trials run. An executor receives a sweep's payload once (:meth:`Executor.open`) and then
runs batches of tasks — ``(key, params)`` pairs — yielding each outcome as soon as it is done.

- :class:`SerialExecutor`: in this process, one after another (the baseline, and for debugging).
- ``LocalPoolExecutor`` (:mod:`backtestr.optimize.pool`): the local cores, this process plus
  spawn-started worker processes.
- ``DaskExecutor`` (:mod:`backtestr.optimize.dask`): a Dask distributed cluster.

All run the same pure :func:`~backtestr.optimize.trial.run_trial`, so their outcomes are
identical bit for bit.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Self

from backtestr.errors import BacktestrError, ConfigError, did_you_mean
from backtestr.optimize.trial import SweepPayload, TrialOutcome, run_trial
from backtestr.strategy.params import ParamValue

__all__ = [
    "EXECUTORS",
    "Executor",
    "ExecutorSession",
    "SerialExecutor",
    "Task",
    "make_executor",
]

Task = tuple[str, Mapping[str, ParamValue]]


class ExecutorError(BacktestrError):
    """Trials could not be run (workers kept dying, the cluster is unreachable …)."""


class ExecutorSession(ABC):
    """An executor holding one sweep's payload; close it (or use ``with``) when done."""

    @abstractmethod
    def run(
        self, tasks: Sequence[Task], window: tuple[int, int] | None = None
    ) -> Iterator[TrialOutcome]:
        """Run ``tasks``, yielding outcomes as they complete (in any order).

        With ``window`` (``start_ns, end_ns``) the trials run on that part of the session's
        payload (:meth:`SweepPayload.in_window`): a walk-forward reuses one session, and the
        data shipped once, for all its windows.

        A :class:`~backtestr.errors.StrategyError` of any trial is raised here after the
        remaining tasks of the batch are cancelled.
        """

    @abstractmethod
    def close(self) -> None:
        """Release workers (idempotent)."""

    def __enter__(self) -> ExecutorSession:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Executor(ABC):
    """A way of running trials; ``slots`` trials run at the same time."""

    name: str = "executor"

    @property
    @abstractmethod
    def slots(self) -> int: ...

    @abstractmethod
    def open(self, payload: SweepPayload) -> ExecutorSession:
        """Ship ``payload`` to the workers (once) and return a session to run tasks in."""

    def start(self) -> None:  # noqa: B027 (optional: most executors have nothing to start)
        """Start, ahead of :meth:`open`, whatever needs no payload (worker processes, which
        take seconds to import and load compiled kernels), so that it overlaps what the caller
        does meanwhile, such as reading the data. Optional: :meth:`open` starts what it needs.
        """

    def close(self) -> None:  # noqa: B027 (nothing to stop unless start() started it)
        """Stop what :meth:`start` started and no :meth:`open` took over (idempotent)."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every trial in this process, one after the other."""

    name = "serial"

    @property
    def slots(self) -> int:
        return 1

    def open(self, payload: SweepPayload) -> ExecutorSession:
        return _SerialSession(payload)


class _SerialSession(ExecutorSession):
    def __init__(self, payload: SweepPayload) -> None:
        self._payload = payload

    def run(
        self, tasks: Sequence[Task], window: tuple[int, int] | None = None
    ) -> Iterator[TrialOutcome]:
        payload = self._payload if window is None else self._payload.in_window(*window)
        for key, params in tasks:
            yield run_trial(payload, params, key)

    def close(self) -> None:
        pass


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


EXECUTORS = ("local", "serial", "dask")


def make_executor(
    name: str | Executor = "local", workers: int | None = None, cluster: str | None = None
) -> Executor:
    """The executor called ``name`` (``local``, ``serial`` or ``dask``), or ``name`` itself.

    ``cluster`` (a scheduler address such as ``tcp://host:8786``) is for ``dask`` only;
    ``workers`` is the pool size (``local``) or the size of a local Dask cluster.

    Raises
    ------
    ConfigError
        On an unknown name, an option the executor does not take, or Dask not installed.
    """
    if isinstance(name, Executor):
        return name
    kind = name.strip().lower()
    if kind not in EXECUTORS:
        raise ConfigError(
            f"Unknown executor '{name}': use {', '.join(EXECUTORS)}."
            + did_you_mean(kind, EXECUTORS)
        )
    if cluster is not None and kind != "dask":
        raise ConfigError(f"--cluster {cluster} needs --executor dask (got {kind}).")
    if kind == "serial":
        if workers not in (None, 1):
            raise ConfigError(
                f"The serial executor runs one trial at a time; drop --workers {workers}."
            )
        return SerialExecutor()
    if kind == "local":
        from backtestr.optimize.pool import LocalPoolExecutor  # it imports this module

        return LocalPoolExecutor(workers)
    try:  # imported by name: Dask is optional and heavy
        module = importlib.import_module("backtestr.optimize.dask")
    except ModuleNotFoundError as error:
        missing = error.name or "dask"
        hint = (
            "this BackTestr build has no Dask executor"
            if missing == "backtestr.optimize.dask"
            else f"the package '{missing}' is not installed (pip install 'dask[distributed]')"
        )
        raise ConfigError(f"Cannot use --executor dask: {hint}; use --executor local.") from error
    made: Executor = module.DaskExecutor(cluster=cluster, workers=workers)
    return made
