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

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from backtestr.errors import BacktestrError
from backtestr.optimize.trial import SweepPayload, TrialOutcome, run_trial
from backtestr.strategy.params import ParamValue

__all__ = ["Executor", "ExecutorSession", "LocalPoolExecutor", "SerialExecutor", "Task"]

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


class LocalPoolExecutor(Executor):
    """A spawn-started process pool over ``workers`` cores (default: all).

    A worker that dies (killed, out of memory) breaks the pool; the pool is then restarted and
    the unfinished tasks are run again, each at most ``retries`` times.
    """

    name = "local"

    def __init__(self, workers: int | None = None, retries: int = 2) -> None:
        if workers is not None and workers < 1:
            raise ExecutorError(f"--workers must be at least 1, got {workers}.")
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


def _run_installed(
    key: str, params: Mapping[str, ParamValue], window: tuple[int, int] | None = None
) -> TrialOutcome:
    if _WORKER_PAYLOAD is None:
        raise ExecutorError("This worker received no sweep payload.")
    payload = _WORKER_PAYLOAD if window is None else _WORKER_PAYLOAD.in_window(*window)
    return run_trial(payload, params, key)


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

    def run(
        self, tasks: Sequence[Task], window: tuple[int, int] | None = None
    ) -> Iterator[TrialOutcome]:
        attempts = dict.fromkeys((key for key, _ in tasks), 0)
        todo = list(tasks)
        while todo:
            pool = self._ensure_pool()
            running: dict[Future[TrialOutcome], Task] = {
                pool.submit(_run_installed, key, params, window): (key, params)
                for key, params in todo
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
