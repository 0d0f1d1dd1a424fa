"""The local process pool: trials on this machine's cores.

Worker processes are started with the ``spawn`` method, so the pool behaves the same on
Windows, macOS and Linux. A spawned worker spends seconds before it can run a trial (a fresh
interpreter importing numpy, pandas, numba and the engine, then loading the compiled kernels);
two things hide that:

- the calling process is one of the workers: it has everything loaded and runs trials at once;
- :meth:`LocalPoolExecutor.start` starts the worker processes before the payload exists — while
  the caller is still reading the data from the store, say — because nothing of their start
  depends on it. The payload reaches each worker later, once, through a file whose path every
  task carries (a few bytes); a task ships only its parameters.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import tempfile
import threading
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

from backtestr.errors import ConfigError
from backtestr.optimize.executors import (
    Executor,
    ExecutorError,
    ExecutorSession,
    Task,
    default_workers,
)
from backtestr.optimize.trial import SweepPayload, TrialOutcome, run_trial, warm_up
from backtestr.strategy.params import ParamValue

__all__ = ["LocalPoolExecutor"]


class LocalPoolExecutor(Executor):
    """Trials on ``workers`` local cores (default: all): spawn-started worker processes, plus
    (by default) this process as one of the workers.

    The calling process already has everything loaded, so it starts on the first trial at
    once while the ``workers - 1`` spawned processes import and load the numba cache. Call
    :meth:`start` as early as possible (before reading the data) and those start-ups overlap
    the caller's own work too; :meth:`open` without it starts them then. Pass
    ``use_caller=False`` for spawned workers only (then a strategy that crashes the
    interpreter cannot take the sweep down with it).

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
        self._standby: ProcessPoolExecutor | None = None

    @property
    def slots(self) -> int:
        return self.workers

    @property
    def _processes(self) -> int:
        return self.workers - 1 if self.use_caller else self.workers

    def start(self) -> None:
        """Start the worker processes now; the next :meth:`open` hands them its payload."""
        if self._standby is None and self._processes:
            self._standby = _start_pool(self._processes)

    def close(self) -> None:
        """Stop workers started by :meth:`start` that no :meth:`open` has taken."""
        standby, self._standby = self._standby, None
        if standby is not None:
            _discard_unused(standby)

    def open(self, payload: SweepPayload) -> ExecutorSession:
        self.start()
        pool, self._standby = self._standby, None
        return _PoolSession(payload, pool, self._processes, self.retries, self.use_caller)


def _start_pool(processes: int) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=warm_up,
    )
    # Python starts a spawned worker when a task is submitted and no worker is idle: one no-op
    # per worker starts them all now rather than with the first trials
    for _ in range(processes):
        pool.submit(_ready)
    return pool


def _ready() -> None:
    """The task that starts a worker process (its initializer does the work)."""


def _discard_unused(pool: ProcessPoolExecutor) -> None:
    """Stop a pool that never ran a trial: its workers are still importing or idle and hold
    nothing, so they are terminated rather than awaited (a shut-down pool waits for a worker's
    start-up to finish, seconds, and so would this process's exit)."""
    # ``_processes`` is private but has been there since Python 3.2; 3.14 adds a public
    # ``terminate_workers``
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, AttributeError):
            process.terminate()


# The payload this worker process loaded last, with the file it came from (one per process).
_installed: tuple[str, SweepPayload] | None = None


def _run_installed(
    path: str, key: str, params: Mapping[str, ParamValue], window: tuple[int, int] | None = None
) -> TrialOutcome:
    """A task in a worker process: the payload is read from ``path`` on the worker's first
    task of a sweep, then kept."""
    global _installed
    if _installed is None or _installed[0] != path:
        with open(path, "rb") as file:
            _installed = (path, pickle.load(file))  # written by this sweep's own process
    payload = _installed[1] if window is None else _installed[1].in_window(*window)
    return run_trial(payload, params, key)


def _write_payload(payload: SweepPayload) -> str:
    # Workers read the payload from a file rather than receive it with their start arguments
    # or with each task: they are started before it exists, and a start that carried megabytes
    # would block this process until the child had imported everything and read them.
    handle, name = tempfile.mkstemp(prefix="backtestr-sweep-", suffix=".pickle")
    with os.fdopen(handle, "wb") as file:
        pickle.dump(payload, file, protocol=pickle.HIGHEST_PROTOCOL)
    return name


class _PoolSession(ExecutorSession):
    """Hands tasks out as slots free up: each worker process holds at most two (one running,
    one queued, so that it never waits for this process to hand out the next), the calling
    process's thread one."""

    def __init__(
        self,
        payload: SweepPayload,
        pool: ProcessPoolExecutor | None,
        processes: int,
        retries: int,
        use_caller: bool,
    ) -> None:
        self._payload = payload
        self._window: tuple[int, int] | None = None
        self._caller_payload = payload
        self._processes = processes
        self._retries = retries
        self._use_caller = use_caller
        self._pool = pool
        self._caller: ThreadPoolExecutor | None = None
        self._payload_file: str | None = None
        self._pool_answered = False

    def _ensure_pool(self) -> tuple[ProcessPoolExecutor, str]:
        if self._payload_file is None:
            self._payload_file = _write_payload(self._payload)
        if self._pool is None:
            self._pool = _start_pool(self._processes)
        return self._pool, self._payload_file

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
            pool, path = self._ensure_pool()
            future = pool.submit(_run_installed, path, key, params, self._window)
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
                    entry = running.pop(future, None)
                    if entry is None:  # the twin of a task delivered earlier in this batch
                        continue
                    task, in_process = entry
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
        if pool is not None and not self._pool_answered and path is None:
            _discard_unused(pool)  # started, never given a trial (the caller ran them all)
        elif pool is not None:
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
