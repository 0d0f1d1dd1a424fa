"""Long work (an import) runs on a background thread; its progress is kept for streaming."""

from __future__ import annotations

import asyncio
import enum
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from backtestr.errors import BacktestrError
from backtestr.server.errors import ErrorBody, error_response

__all__ = ["Job", "JobRegistry", "JobState", "Progress", "job_events", "job_snapshot"]

JsonObject = dict[str, object]


class JobState(enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report: ``phase`` (e.g. ``read``, ``store``), ``done`` of ``total``."""

    phase: str
    done: int
    total: int


class Job:
    """A piece of background work: its latest progress and, once finished, its outcome."""

    def __init__(self, kind: str) -> None:
        self.job_id = uuid.uuid4().hex
        self.kind = kind
        self._changed = threading.Condition()
        self._version = 0
        self._progress: Progress | None = None
        self._state = JobState.RUNNING
        self._result: JsonObject | None = None
        self._error: tuple[int, ErrorBody] | None = None
        self._cancel_requested = False
        self._on_cancel: Callable[[], None] | None = None

    def report(self, phase: str, done: int, total: int) -> None:
        """Progress callback with the store's ``(phase, done, total)`` signature."""
        with self._changed:
            self._progress = Progress(phase, done, total)
            self._version += 1
            self._changed.notify_all()

    def finish(self, result: JsonObject) -> None:
        with self._changed:
            self._state, self._result = JobState.COMPLETED, result
            self._version += 1
            self._changed.notify_all()

    def fail(self, status: int, body: ErrorBody) -> None:
        with self._changed:
            self._state, self._error = JobState.FAILED, (status, body)
            self._version += 1
            self._changed.notify_all()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """What :meth:`cancel` does; called at once when a cancel was asked for already."""
        with self._changed:
            self._on_cancel = hook
            requested = self._cancel_requested
        if requested:
            hook()

    def cancel(self) -> bool:
        """Ask the work to stop; ``False`` when the job has finished already."""
        with self._changed:
            if self._state is not JobState.RUNNING:
                return False
            self._cancel_requested = True
            hook = self._on_cancel
        if hook is not None:
            hook()
        return True

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def wait_for_change(self, seen_version: int, timeout_s: float) -> int:
        """Block until the job changed after ``seen_version`` (or the timeout); new version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != seen_version, timeout=timeout_s)
            return self._version

    @property
    def version(self) -> int:
        """Grows by one with every change (progress or outcome)."""
        return self._version

    @property
    def state(self) -> JobState:
        return self._state

    @property
    def progress(self) -> Progress | None:
        return self._progress

    @property
    def result(self) -> JsonObject | None:
        return self._result

    @property
    def error(self) -> tuple[int, ErrorBody] | None:
        return self._error


class JobRegistry:
    """The server's jobs, newest kept; finished ones are forgotten after ``keep`` newer ones."""

    def __init__(self, keep: int = 50) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def start(
        self, kind: str, work: Callable[[Job], JsonObject], cleanup: Callable[[], None]
    ) -> Job:
        """Run ``work(job)`` on a daemon thread; its result or domain error ends the job."""
        job = Job(kind)
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs.values()))
                if oldest.state is JobState.RUNNING:
                    break
                self._jobs.popitem(last=False)

        def run() -> None:
            try:
                job.finish(work(job))
            except BacktestrError as error:
                job.fail(*error_response(error))
            except Exception as error:  # a bug: report it rather than leave the job hanging
                job.fail(500, {"error": type(error).__name__, "message": str(error)})
            finally:
                cleanup()

        threading.Thread(target=run, name=f"backtestr-{kind}-{job.job_id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)


def job_snapshot(job: Job) -> JsonObject:
    progress = job.progress
    return {
        "job_id": job.job_id,
        "state": job.state.value,
        "progress": None
        if progress is None
        else {"phase": progress.phase, "done": progress.done, "total": progress.total},
    }


async def job_events(job: Job) -> AsyncIterator[str]:
    """Server-sent events: ``progress`` while the job runs, then one ``done`` event."""
    seen = -1
    while True:
        version = job.version
        if version != seen:
            seen = version
            if job.state is JobState.RUNNING:
                yield f"event: progress\ndata: {json.dumps(job_snapshot(job))}\n\n"
            else:
                status = job.error[0] if job.error is not None else 200
                done = {"state": job.state.value, "status": status}
                yield f"event: done\ndata: {json.dumps(done)}\n\n"
                return
        await asyncio.sleep(0.05)
