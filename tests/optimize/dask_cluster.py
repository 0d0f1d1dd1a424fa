"""Real Dask scheduler and worker processes on 127.0.0.1 for the executor tests.

Started with the ``dask`` command line the docs tell users to run (``dask scheduler``,
``dask worker``), on a random free port (the scheduler picks it and writes it to its scheduler
file), dashboards off; every process is stopped when the test is done.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from distributed import Client

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180.0  # the test machine is shared: process start-up can be slow


def dask_cli() -> str:
    found = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if found is None:
        pytest.skip("the `dask` command line is not installed")
    return found


@dataclass
class RealCluster:
    address: str
    start: Callable[..., subprocess.Popen[bytes]]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_worker(self) -> subprocess.Popen[bytes]:
        """Start one more ``dask worker --nthreads 1 --no-nanny`` (it joins in the background)."""
        name = f"worker{len(self.workers)}"
        args = ["--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"]
        process = self.start(name, "worker", self.address, *args, "--name", name)
        self.workers.append(process)
        return process

    def client(self) -> Client:
        return Client(self.address, timeout=30, set_as_default=False)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def real_cluster(folder: Path, workers: int = 2) -> Iterator[RealCluster]:
    """``dask scheduler`` and ``workers`` × ``dask worker --nthreads 1 --no-nanny``.

    No nanny: a worker killed by a test stays dead instead of being restarted. ``PYTHONPATH``
    lets the workers import the test helpers as well as ``backtestr``.
    """
    cli = dask_cli()
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    scheduler_file = folder / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        with (folder / f"{name}.log").open("wb") as log:  # the child keeps its own handle
            process = subprocess.Popen([cli, *args], stdout=log, stderr=subprocess.STDOUT, env=env)
        processes.append(process)
        return process

    try:
        start(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--dashboard-address", "127.0.0.1:0",
            "--scheduler-file", str(scheduler_file),
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                raise RuntimeError((folder / "scheduler.log").read_text())
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        cluster = RealCluster(address, start)
        for _ in range(workers):
            cluster.add_worker()
        with cluster.client() as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
        yield cluster
    finally:
        for process in reversed(processes):
            _stop(process)


def worker_pid(client: Client, address: str) -> int:
    pids: dict[str, int] = client.run(os.getpid)
    return pids[address]
