"""Where trials run. An executor receives a sweep's payload once (:meth:`Executor.open`) and then
runs batches of tasks — ``(key, params)`` pairs — yielding each outcome as soon as it is done.

- :class:`SerialExecutor`: in this process, one after another (the baseline, and for debugging).
- :class:`LocalPoolExecutor`: a process pool over the local cores, started with the ``spawn``
  method so it behaves the same on Windows, macOS and Linux. Each worker receives the payload
  once, when it starts; a task ships only its parameters.
- ``DaskExecutor`` (:mod:`backtestr.optimize.dask`): a Dask distributed cluster.

All run the same pure :func:`~backtestr.optimize.trial.run_trial`, so their outcomes are
identical bit for bit.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from backtestr.errors import BacktestrError, ConfigError, did_you_mean
from backtestr.optimize.trial import SweepPayload, TrialOutcome, run_trial, warm_up
from backtestr.strategy.params import ParamValue

__all__ = [
    "EXECUTORS",
    "Executor",
    "ExecutorSession",
    "LocalPoolExecutor",
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
    def run(self, tasks: Sequence[Task]) -> Iterator[TrialOutcome]:
        """Run ``tasks``, yielding outcomes as they complete (in any order).

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

    def run(self, tasks: Sequence[Task]) -> Iterator[TrialOutcome]:
        for key, params in tasks:
            yield run_trial(self._payload, params, key)

    def close(self) -> None:
        pass


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


class LocalPoolExecutor(Executor):
    """A spawn-started process pool over ``workers`` cores (default: all).

    A worker that dies (killed, out of memory) breaks the pool; the pool is then restarted and
    the unfinished tasks are run again, each at most ``retries`` times.
    """

    name = "local"

    def __init__(self, workers: int | None = None, retries: int = 2) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}.")
        self.workers = workers or default_workers()
        self.retries = retries

    @property
    def slots(self) -> int:
        return self.workers

    def open(self, payload: SweepPayload) -> ExecutorSession:
        return _PoolSession(payload, self.workers, self.retries)


# The payload a pool worker received when it started (one per worker process).
_WORKER_PAYLOAD: SweepPayload | None = None


def _install_payload(payload: SweepPayload) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = payload
    warm_up()


def _run_installed(key: str, params: Mapping[str, ParamValue]) -> TrialOutcome:
    if _WORKER_PAYLOAD is None:
        raise ExecutorError("This worker received no sweep payload.")
    return run_trial(_WORKER_PAYLOAD, params, key)


class _PoolSession(ExecutorSession):
    def __init__(self, payload: SweepPayload, workers: int, retries: int) -> None:
        self._payload = payload
        self._workers = workers
        self._retries = retries
        self._pool: ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_install_payload,
                initargs=(self._payload,),
            )
        return self._pool

    def run(self, tasks: Sequence[Task]) -> Iterator[TrialOutcome]:
        attempts = dict.fromkeys((key for key, _ in tasks), 0)
        todo = list(tasks)
        while todo:
            pool = self._ensure_pool()
            running: dict[Future[TrialOutcome], Task] = {
                pool.submit(_run_installed, key, params): (key, params) for key, params in todo
            }
            todo = []
            try:
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        try:
                            outcome = future.result()
                        except BrokenProcessPool:
                            todo.append(task)
                            continue
                        yield outcome
            except BaseException:
                for future in running:
                    future.cancel()
                raise
            if todo:  # a worker died: every task not finished must run again on a new pool
                todo += [running.pop(f) for f in list(running)]
                self._discard_pool()
                for key, _ in todo:
                    attempts[key] += 1
                    if attempts[key] > self._retries:
                        raise ExecutorError(
                            f"A worker died {attempts[key]} times while running trial {key[:12]} "
                            "(out of memory? killed?); the results finished so far are kept."
                        )

    def _discard_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


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
