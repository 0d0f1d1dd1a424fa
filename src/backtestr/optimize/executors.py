"""Where trials run. An executor receives a sweep's payload once (:meth:`Executor.open`) and then
runs batches of tasks — ``(key, params)`` pairs — yielding each outcome as soon as it is done.

- :class:`SerialExecutor`: in this process, one after another (the baseline, and for debugging).
- :class:`LocalPoolExecutor`: the local cores: this process plus a process pool started with
  the ``spawn`` method so it behaves the same on Windows, macOS and Linux. Each worker receives
  the payload once, when it starts; a task ships only its parameters.
- ``DaskExecutor`` (:mod:`backtestr.optimize.dask`): a Dask distributed cluster.

All run the same pure :func:`~backtestr.optimize.trial.run_trial`, so their outcomes are
identical bit for bit.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import pickle
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
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
    """Trials on ``workers`` local cores (default: all): spawn-started worker processes, plus
    (by default) this process as one of the workers.

    The calling process already has everything loaded, so it starts on the first trial at
    once while the ``workers - 1`` spawned processes import, receive the payload and load the
    numba cache: a sweep pays the start-up of one process fewer (about five short runs each on
    a 2-core machine). Pass ``use_caller=False`` for spawned workers only (then a strategy that
    crashes the interpreter cannot take the sweep down with it).

    A worker that dies (killed, out of memory) breaks the pool; the pool is then restarted and
    the unfinished tasks are run again, each at most ``retries`` times.
    """

    name = "local"

    def __init__(
        self, workers: int | None = None, retries: int = 2, *, use_caller: bool = True
    ) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}.")
        self.workers = workers or default_workers()
        self.retries = retries
        self.use_caller = use_caller

    @property
    def slots(self) -> int:
        return self.workers

    def open(self, payload: SweepPayload) -> ExecutorSession:
        processes = self.workers - 1 if self.use_caller else self.workers
        return _PoolSession(payload, processes, self.retries, use_caller=self.use_caller)


# The payload a pool worker received when it started (one per worker process).
_WORKER_PAYLOAD: SweepPayload | None = None


def _install_payload(path: str) -> None:
    """A worker's start: read the sweep's payload from the file the session wrote, once."""
    global _WORKER_PAYLOAD
    with open(path, "rb") as file:
        _WORKER_PAYLOAD = pickle.load(file)  # written by this sweep's own process
    warm_up()


def _run_installed(
    key: str, params: Mapping[str, ParamValue], window: tuple[int, int] | None = None
) -> TrialOutcome:
    if _WORKER_PAYLOAD is None:
        raise ExecutorError("This worker received no sweep payload.")
    payload = _WORKER_PAYLOAD if window is None else _WORKER_PAYLOAD.in_window(*window)
    return run_trial(payload, params, key)


class _PoolSession(ExecutorSession):
    """Hands tasks out as slots free up: each worker process holds at most two (one running,
    one queued, so that it never waits for this process to hand out the next), the calling
    process's thread one."""

    def __init__(
        self, payload: SweepPayload, processes: int, retries: int, *, use_caller: bool
    ) -> None:
        self._payload = payload
        self._window: tuple[int, int] | None = None
        self._caller_payload = payload
        self._processes = processes
        self._retries = retries
        self._use_caller = use_caller
        self._pool: ProcessPoolExecutor | None = None
        self._caller: ThreadPoolExecutor | None = None
        self._payload_file: str | None = None
        self._pool_answered = False

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if self._payload_file is None:
                # Workers read the payload from a file rather than receive it with their start
                # arguments: a start that carries megabytes blocks this process until the child
                # has imported everything and read them, one worker after the other; a path
                # lets every worker start at once while this process runs trials.
                handle, name = tempfile.mkstemp(prefix="backtestr-sweep-", suffix=".pickle")
                with os.fdopen(handle, "wb") as file:
                    pickle.dump(self._payload, file, protocol=pickle.HIGHEST_PROTOCOL)
                self._payload_file = name
            self._pool = ProcessPoolExecutor(
                max_workers=self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_install_payload,
                initargs=(self._payload_file,),
            )
        return self._pool

    def _ensure_caller(self) -> ThreadPoolExecutor:
        if self._caller is None:
            self._caller = ThreadPoolExecutor(1, thread_name_prefix="backtestr-trial")
        return self._caller

    def _dispatch(
        self, pending: deque[Task], running: dict[Future[TrialOutcome], tuple[Task, bool]]
    ) -> None:
        """Fill the free slots from ``pending`` (``running`` maps a future to its task and
        whether it runs in a worker process)."""
        remote = [task for task, in_process in running.values() if in_process]
        if self._use_caller and len(running) == len(remote):  # the calling process is free
            if pending:
                key, params = task = pending.popleft()
            elif remote and self._processes:
                # nothing left to hand out: run a copy of the oldest task still with a worker
                # (one that is starting up, or slow); whichever copy finishes first is used,
                # and both would give the same outcome bit for bit
                key, params = task = remote[0]
            else:
                task = None
            if task is not None:
                future = self._ensure_caller().submit(run_trial, self._caller_payload, params, key)
                running[future] = (task, False)
        # one task per worker until the pool has answered once (workers still starting up
        # should not hold a queue of tasks), then one running and one queued each
        limit = self._processes * (2 if self._pool_answered else 1)
        in_processes = len(remote)
        while self._processes and pending and in_processes < limit:
            key, params = task = pending.popleft()
            future = self._ensure_pool().submit(_run_installed, key, params, self._window)
            running[future] = (task, True)
            in_processes += 1

    def run(
        self, tasks: Sequence[Task], window: tuple[int, int] | None = None
    ) -> Iterator[TrialOutcome]:
        self._window = window
        self._caller_payload = self._payload if window is None else self._payload.in_window(*window)
        attempts = dict.fromkeys((key for key, _ in tasks), 0)
        pending: deque[Task] = deque(tasks)
        running: dict[Future[TrialOutcome], tuple[Task, bool]] = {}
        delivered: set[str] = set()
        try:
            while pending or running:
                self._dispatch(pending, running)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                finished: list[TrialOutcome] = []
                lost: set[str] = set()
                for future in done:
                    task, in_process = running.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        if task[0] not in delivered:
                            lost.add(task[0])
                            pending.appendleft(task)
                        continue
                    self._pool_answered |= in_process
                    if outcome.key in delivered:
                        continue  # the other copy of this task was first
                    delivered.add(outcome.key)
                    finished.append(outcome)
                    for twin, (other, _) in list(running.items()):
                        if other[0] == outcome.key:  # left to finish unseen
                            twin.cancel()
                            del running[twin]
                if lost:  # a worker died: every task of the dead pool must run again
                    requeued = [task for task in pending if task[0] in lost]
                    for future, (task, in_process) in list(running.items()):
                        if in_process:
                            del running[future]
                            pending.appendleft(task)
                            requeued.append(task)
                    self._discard_pool()
                    for key, _ in requeued:
                        attempts[key] += 1
                        if attempts[key] > self._retries:
                            raise ExecutorError(
                                f"A worker died {attempts[key]} times while running trial "
                                f"{key[:12]} (out of memory? killed?); the results finished so "
                                "far are kept."
                            )
                # hand out the next tasks before the caller saves these results
                self._dispatch(pending, running)
                yield from finished
        except BaseException:
            for future in running:
                future.cancel()
            raise

    def _discard_pool(self) -> None:
        self._pool_answered = False
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._caller is not None:
            self._caller.shutdown(wait=True, cancel_futures=True)
            self._caller = None
        pool, path = self._pool, self._payload_file
        self._pool, self._payload_file = None, None
        if pool is not None:
            # the results are all in: do not make the caller wait for a worker that is still
            # starting up or finishing a copy already run here; a (non-daemon) thread lets the
            # workers end and then removes the payload file they read
            threading.Thread(
                target=_retire, args=(pool, path), name="backtestr-pool-retire"
            ).start()
        elif path is not None:
            _remove(path)


def _retire(pool: ProcessPoolExecutor, path: str | None) -> None:
    pool.shutdown(wait=True, cancel_futures=True)
    if path is not None:
        _remove(path)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


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
