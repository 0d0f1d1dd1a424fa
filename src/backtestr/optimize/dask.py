"""Trials on a Dask distributed cluster: an existing one (``tcp://host:8786``) or a local one.

The sweep's payload reaches every worker **once**: it is scattered to all workers (broadcast)
when the session opens, and each task refers to it by its future, so a task ships only its
parameters and its key. A worker that joins later copies the payload from a peer the first time
it runs a trial. Results stream back as they complete; the sweep driver saves each one as it
arrives, so a worker dying mid-sweep loses nothing already computed — the scheduler runs the
dead worker's trials again on the others.

Every worker runs the same pure :func:`~backtestr.optimize.trial.run_trial`, so outcomes are
identical bit for bit to the serial and local-pool executors'. Workers must be able to import
the same version of ``backtestr`` as the driver (``pip install backtestr==<version>`` on each
machine); the session checks this when it opens. See ``docs/cluster.md``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import dask.config
import numpy as np
from distributed import Client, Future, LocalCluster, as_completed
from distributed.client import FutureCancelledError
from distributed.comm.core import connect
from distributed.security import Security

from backtestr.engine import EngineSettings, MarketData, SymbolFeed
from backtestr.errors import ConfigError, StrategyError
from backtestr.model import BarArrays, Timeframe, fx_instrument
from backtestr.optimize.executors import (
    Executor,
    ExecutorError,
    ExecutorSession,
    Task,
    default_workers,
)
from backtestr.optimize.trial import SweepPayload, TrialOutcome, run_trial
from backtestr.strategy.backtest import Backtest
from backtestr.strategy.backtest import _version as backtestr_version
from backtestr.strategy.params import ParamValue

__all__ = ["CONNECT_TIMEOUT_S", "WORKERS_TIMEOUT_S", "DaskExecutor", "DaskSession"]

# How long to try reaching a scheduler before saying it is unreachable, and how long to wait
# for the workers a sweep asked for to join it.
CONNECT_TIMEOUT_S = 5.0
WORKERS_TIMEOUT_S = 30.0

_START_HELP = (
    "Start one with `dask scheduler` (default port 8786) and workers with "
    "`dask worker tcp://HOST:8786 --nthreads 1`, or drop --cluster and use --workers N for a "
    "cluster on this machine (docs/cluster.md)"
)


class DaskExecutor(Executor):
    """Trials on a Dask distributed cluster.

    ``cluster`` is the address of a running scheduler (``tcp://host:8786``); ``workers`` is then
    how many workers to wait for before starting (default 1). Without ``cluster``, a
    :class:`distributed.LocalCluster` of ``workers`` single-threaded worker *processes* (default:
    one per core) is started for the sweep and closed after it — processes, because a trial
    holds the GIL. A trial that raises anything but a :class:`StrategyError` is retried up to
    ``retries`` times; on a local cluster, a trial whose worker died is rerun up to ``retries``
    more times (on an existing cluster the scheduler's ``allowed-failures`` setting decides).
    """

    name = "dask"

    def __init__(
        self, cluster: str | None = None, workers: int | None = None, retries: int = 2
    ) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}.")
        if retries < 0:
            raise ConfigError(f"retries must be 0 or more, got {retries}.")
        if cluster is not None and not cluster.strip():
            raise ConfigError("--cluster is empty: give the scheduler's address, tcp://HOST:8786.")
        self.cluster = cluster.strip() if cluster else None
        self.workers = workers
        self.retries = retries
        self._slots: int | None = None

    @property
    def slots(self) -> int:
        """Trials running at once: the workers' threads once a session has opened, else the
        number of workers asked for (a local cluster defaults to one per core)."""
        if self._slots is not None:
            return self._slots
        if self.cluster is None:
            return self.workers or default_workers()
        return self.workers or 1

    def open(self, payload: SweepPayload) -> DaskSession:
        client, cluster = self._connect()
        try:
            _check_workers(client, self.cluster)
            session = DaskSession(client, cluster, payload, self.retries)
            self._slots = max(1, sum(client.nthreads().values()))
        except BaseException:
            client.close()
            if cluster is not None:
                _close_local_cluster(cluster)
            raise
        return session

    def _connect(self) -> tuple[Client, LocalCluster | None]:
        if self.cluster is None:
            count = self.workers or default_workers()
            cluster = _start_local_cluster(count, self.retries)
            try:
                return Client(cluster, set_as_default=False), cluster
            except BaseException:
                _close_local_cluster(cluster)
                raise
        address = self.cluster
        _probe(address)
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        try:
            wanted = self.workers or 1
            client.wait_for_workers(wanted, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            have = len(client.nthreads())
            client.close()
            raise ExecutorError(
                f"The Dask scheduler at {address} has {have} worker(s), {wanted} needed, after "
                f"{WORKERS_TIMEOUT_S:g} s: start workers with `dask worker {address} --nthreads 1`."
            ) from None
        return client, None


# Dask's defaults for the environment of the worker processes a nanny spawns, minus
# MALLOC_TRIM_THRESHOLD_: setting it at all turns off glibc's adaptive mmap threshold, so every
# array above 128 KiB a run allocates is mapped and unmapped again — about 10-15 % more CPU per
# backtest (measured with bench/optimize_dask.py). The single-threaded BLAS settings stay: one
# trial per process is the point.
_WORKER_ENVIRON: dict[str, object] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


@contextmanager
def _environ_kept() -> Iterator[None]:
    """Undo what a nanny writes into this process's environment before spawning a worker (it
    sets its variables here first): the caller's own subprocesses must not inherit them."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(before):
            del os.environ[name]
        for name, value in before.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


def _start_local_cluster(workers: int, retries: int) -> LocalCluster:
    # the scheduler and the nannies run in this process and read their settings when they start
    settings = {"distributed.scheduler.allowed-failures": retries, **_WORKER_ENVIRON}
    with dask.config.set(settings), _environ_kept():
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # no dashboard; the scheduler's small HTTP server (health, metrics) on any free
            # port, so sweeps never fight over 8787
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            # a cluster of our own is an implementation detail: only its errors show
            silence_logs=logging.ERROR,
        )


def _close_local_cluster(cluster: LocalCluster) -> None:
    with _environ_kept():  # a nanny restarting a worker meanwhile writes it again
        cluster.close()


def _probe(address: str) -> None:
    """Fail fast and clearly when no scheduler answers at ``address``.

    Checked with a bare connection rather than by constructing a ``Client``: a client that
    failed to connect still tries to close itself when collected, which blocks for seconds.
    """

    async def attempt() -> None:
        arguments = Security().get_connection_args("client")  # TLS settings from dask config
        comm = await connect(address, timeout=CONNECT_TIMEOUT_S, **arguments)
        await comm.close()

    # a thread of its own: the caller may already run an event loop (a notebook)
    with ThreadPoolExecutor(1) as thread:
        try:
            thread.submit(asyncio.run, attempt()).result()
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"--cluster {address!r} is not a scheduler address ({error}): use tcp://HOST:8786."
            ) from None
        except (OSError, TimeoutError) as error:
            raise ExecutorError(
                f"Could not reach a Dask scheduler at {address} within {CONNECT_TIMEOUT_S:g} s "
                f"({error}). Is it running, and is the port open? {_START_HELP}."
            ) from None


def _worker_ready() -> str:
    """Run on every worker when a session opens: import the engine and load its compiled
    kernels (a tiny run), so the first trial does not pay for it; return backtestr's version."""
    steps = np.arange(64)
    close = 1.1 + 0.001 * np.sin(steps / 3.0)  # crosses its average: orders are filled
    ts = np.int64(1_577_836_800 * 10**9) + steps.astype(np.int64) * 60 * 10**9
    bars = BarArrays.from_ohlc(ts, close, close + 2e-4, close - 2e-4, close, np.ones(len(steps)))
    market = MarketData(
        Timeframe.parse("M1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), bars)}
    )
    Backtest(_WARM_STRATEGY, market, EngineSettings(cash=10_000.0)).run()
    return backtestr_version()


_WARM_STRATEGY = """\
def handle_data(context, data):
    history = data.history(context.symbol, "close", 5)
    if history.mean() < data.current(context.symbol, "close"):
        order_target_percent(context.symbol, 1.0)
    else:
        order_target_percent(context.symbol, 0.0)
"""


def _check_workers(client: Client, address: str | None) -> None:
    """Every worker imports the driver's backtestr version (and is warmed up)."""
    where = address or "the local cluster"
    try:
        versions: dict[str, str] = client.run(_worker_ready)
    except (ImportError, AttributeError) as error:
        raise ExecutorError(
            f"Workers of {where} cannot run backtestr ({error}): install it on every worker "
            f"machine, `pip install backtestr=={backtestr_version()}`."
        ) from None
    mine = backtestr_version()
    wrong = {worker: version for worker, version in versions.items() if version != mine}
    if wrong:
        shown = ", ".join(f"{worker} has {version}" for worker, version in sorted(wrong.items()))
        raise ExecutorError(
            f"Workers of {where} run another backtestr version than this one ({mine}): {shown}. "
            f"Install the same version everywhere: `pip install backtestr=={mine}`."
        )


def _run_task(
    payload: SweepPayload,
    params: Mapping[str, ParamValue],
    key: str,
    window: tuple[int, int] | None = None,
) -> TrialOutcome | StrategyError:
    """One trial on a worker, on ``window`` of the payload if given (cut here, in the worker:
    the whole payload was shipped once). A strategy failure comes back as a value, not raised:
    it is deterministic, so Dask must not retry it."""
    try:
        return run_trial(payload if window is None else payload.in_window(*window), params, key)
    except StrategyError as error:
        return error


class DaskSession(ExecutorSession):
    """A sweep's payload on a Dask cluster; :attr:`client` is there for diagnostics (the task
    stream, the dashboard link)."""

    def __init__(
        self, client: Client, cluster: LocalCluster | None, payload: SweepPayload, retries: int
    ) -> None:
        self._client = client
        self._cluster = cluster
        self._payload = payload
        self._retries = retries
        # task keys must be unique on a shared scheduler: another sweep may run the same trial
        self._prefix = f"backtestr-trial-{uuid.uuid4().hex[:8]}"
        self._counter = itertools.count()
        self._handle = self._scatter()

    @property
    def client(self) -> Client:
        return self._client

    def _scatter(self) -> Future[Any]:
        """Put the payload on every worker, once (``hash=False``: a key of its own, so two
        sweeps never share or free each other's data)."""
        handle: Future[Any] = self._client.scatter(self._payload, broadcast=True, hash=False)
        return handle

    def run(
        self, tasks: Sequence[Task], window: tuple[int, int] | None = None
    ) -> Iterator[TrialOutcome]:
        pending = dict(tasks)  # not yet yielded
        losses = 0
        while pending:
            lost = yield from self._run_once(pending, window)
            if not lost:
                return
            # every worker holding the payload died: put it on the workers there are now and
            # run the trials not yet finished again
            losses += 1
            if losses > self._retries:
                raise ExecutorError(
                    f"The sweep's data was lost {losses} times (every worker holding it died); "
                    f"{len(pending)} trials did not finish. The results finished so far are "
                    "kept — run the sweep again to finish it."
                )
            self._handle.release()
            try:
                self._client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            except TimeoutError:
                raise ExecutorError(
                    f"The cluster has no workers left; {len(pending)} trials did not finish. "
                    "Start workers, then run the sweep again: the results finished so far are "
                    "kept."
                ) from None
            self._handle = self._scatter()

    def _run_once(
        self, pending: dict[str, Mapping[str, ParamValue]], window: tuple[int, int] | None
    ) -> Generator[TrialOutcome, None, bool]:
        """Submit every pending trial; yield outcomes as they complete, removing them from
        ``pending``. Returns True when the payload was lost (the rest must run again)."""
        futures: dict[Future[Any], str] = {}
        for key, params in pending.items():
            future = self._client.submit(
                _run_task,
                self._handle,
                params,
                key,
                window,
                key=f"{self._prefix}-{key[:16]}-{next(self._counter)}",
                retries=self._retries,
                pure=False,
            )
            futures[future] = key
        try:
            for future in as_completed(futures, loop=self._client.loop, raise_errors=False):
                key = futures.pop(future)
                try:
                    value = future.result()
                except FutureCancelledError:
                    if self._handle.status == "finished":  # cancelled by someone else
                        raise ExecutorError(
                            f"Trial {key[:12]} was cancelled on the cluster; the results "
                            "finished so far are kept — run the sweep again to finish it."
                        ) from None
                    return True
                except Exception as error:
                    raise ExecutorError(
                        f"Trial {key[:12]} failed on the cluster after {self._retries} "
                        f"retries: {type(error).__name__}: {error}. The results finished so far "
                        "are kept — run the sweep again to finish it."
                    ) from error
                finally:
                    future.release()
                if isinstance(value, StrategyError):
                    raise value
                del pending[key]
                yield value
            return False
        finally:
            if futures:
                self._client.cancel(list(futures), force=True)

    def close(self) -> None:
        if self._client.status != "closed":
            self._handle.release()
            self._client.close()
        if self._cluster is not None:
            _close_local_cluster(self._cluster)
            self._cluster = None
