"""Runs: start a backtest (a background job streaming its progress, cancellable), check a
strategy's code, and the saved runs (list, read, delete). Reading saved runs is generic over
what a run holds (a manifest plus named tables)."""

from __future__ import annotations

import json
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from backtestr.errors import ConfigError, NoDataError
from backtestr.report import render_saved_run_report
from backtestr.server.jobs import Job, JobRegistry, JobState, job_events, job_snapshot
from backtestr.server.payloads import JsonObject
from backtestr.server.routes_data import parse_utc_time
from backtestr.server.store_access import StoreAccess
from backtestr.strategy import Backtest, load_strategy
from backtestr.strategy.library import StrategyLibrary
from backtestr.strategy.stored import RunSpec, run_and_save

__all__ = ["RunRequest", "StrategyText", "runs_router", "spec_of", "strategies_router"]


class StrategyText(BaseModel):
    """Strategy code as typed in the editor."""

    source: str = Field(min_length=1, max_length=1_000_000)


class RunRequest(BaseModel):
    """The run form: the strategy (its code, or the name it was saved under), the data it runs
    on and the account it trades."""

    source: str | None = Field(default=None, min_length=1, max_length=1_000_000)
    strategy: str | None = Field(default=None, max_length=64)

    name: str = Field(default="strategy", max_length=80)
    symbol: str = Field(min_length=1, max_length=40)
    timeframe: str = "M1"
    start: str | None = None  # ISO date or time, UTC
    end: str | None = None  # ISO date (the whole day included) or time (exclusive)
    cash: float = Field(default=100_000.0, gt=0)
    currency: str = "USD"
    leverage: float | None = Field(default=None, gt=0)
    commission: str = "0"
    slippage: str = "0"
    spread_pips: float = Field(default=0.0, ge=0)
    mode: str = "ohlc"
    params: dict[str, bool | int | float | str] = Field(default_factory=dict)


_MAX_ROWS_PER_REQUEST = 100_000


def runs_router() -> APIRouter:
    router = APIRouter(prefix="/api/runs")

    @router.post("", status_code=202)
    def start_run(request: Request, body: RunRequest) -> JsonObject:
        text = body.source
        if text is None:
            if body.strategy is None:
                raise ConfigError("Send the strategy's code as 'source' or a saved one's name.")
            text = _library(request).load(body.strategy).source
        source = load_strategy(text)  # code that does not load fails here, at its line
        spec = spec_of(body)
        access = _store(request)

        def work(job: Job) -> JsonObject:
            def started(backtest: Backtest) -> None:
                job.on_cancel(backtest.cancel)

            saved = run_and_save(
                access.use,
                source,
                spec,
                name=body.name,
                progress=lambda done, total: job.report("run", done, total),
                started=started,
            )
            return {"run_id": saved.run_id, "stats": saved.result.stats.to_dict()}

        job = _jobs(request).start("run", work, lambda: None)
        return {"job_id": job.job_id, "state": job.state.value}

    @router.get("/jobs/{job_id}", response_model=None)
    def run_job(request: Request, job_id: str) -> JSONResponse:
        job = _job(request, job_id)
        if job.state is JobState.RUNNING:
            return JSONResponse(job_snapshot(job), status_code=202)
        if job.error is not None:
            status, error = job.error
            return JSONResponse({**error, "state": job.state.value}, status_code=status)
        return JSONResponse({"state": job.state.value, **(job.result or {})})

    @router.get("/jobs/{job_id}/events", response_model=None)
    def run_job_events(request: Request, job_id: str) -> StreamingResponse:
        return StreamingResponse(job_events(_job(request, job_id)), media_type="text/event-stream")

    @router.delete("/jobs/{job_id}")
    def cancel_run(request: Request, job_id: str) -> JsonObject:
        return {"job_id": job_id, "cancelling": _job(request, job_id).cancel()}

    @router.get("")
    def list_runs(request: Request) -> list[JsonObject]:
        with _store(request).use() as store:
            rows = store.list_runs()
        return [
            {"run_id": row.run_id, "created": row.created_at_iso, "manifest": row.manifest}
            for row in rows
        ]

    @router.get("/{run_id}")
    def read_run(request: Request, run_id: str) -> JsonObject:
        with _store(request).use() as store:
            manifest, tables = store.load_run(run_id)
        return {
            "run_id": run_id,
            "manifest": manifest,
            "tables": {
                name: {"rows": len(frame), "columns": [str(c) for c in frame.columns]}
                for name, frame in tables.items()
            },
        }

    @router.get("/{run_id}/tables/{name}", response_model=None)
    def read_table(
        request: Request,
        run_id: str,
        name: str,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=_MAX_ROWS_PER_REQUEST)] = 10_000,
    ) -> Response:
        with _store(request).use() as store:
            _, tables = store.load_run(run_id)
        if name not in tables:
            raise NoDataError(
                f"Run {run_id} has no table '{name}'; it has: {', '.join(sorted(tables))}."
            )
        frame = tables[name]
        page = frame.iloc[offset : offset + limit]
        body = {"run_id": run_id, "table": name, "total": len(frame), "offset": offset}
        body.update(_columns(page))
        return Response(json.dumps(body), media_type="application/json")

    @router.get("/{run_id}/report", response_model=None)
    def run_report(request: Request, run_id: str) -> HTMLResponse:
        """The run as one self-contained HTML file (stats, equity and drawdown, trades)."""
        with _store(request).use() as store:
            manifest, tables = store.load_run(run_id)
        page = render_saved_run_report(run_id, manifest, tables)
        disposition = f'attachment; filename="{run_id}.html"'
        return HTMLResponse(page, headers={"content-disposition": disposition})

    @router.delete("/{run_id}")
    def delete_run(request: Request, run_id: str) -> JsonObject:
        with _store(request).use() as store:
            store.delete_run(run_id)
        return {"run_id": run_id, "deleted": True}

    return router


def strategies_router() -> APIRouter:
    router = APIRouter(prefix="/api/strategies")

    @router.get("")
    def list_strategies(request: Request) -> list[str]:
        return _library(request).names()

    @router.get("/{name}")
    def read_strategy(request: Request, name: str) -> JsonObject:
        saved = _library(request).load(name)
        return {"name": saved.name, "source": saved.source}

    @router.put("/{name}")
    def save_strategy(request: Request, name: str, body: StrategyText) -> JsonObject:
        """Save the code under ``name`` once it loads (422 at its line when it does not)."""
        saved = _library(request).save(name, body.source)
        return {"name": saved.name, "saved": True}

    @router.delete("/{name}")
    def delete_strategy(request: Request, name: str) -> JsonObject:
        _library(request).delete(name)
        return {"name": name, "deleted": True}

    @router.post("/check")
    def check_strategy(body: StrategyText) -> JsonObject:
        """Load the code as a run would: 422 with the line when it fails, else its parameters."""
        source = load_strategy(body.source)
        return {"ok": True, "parameters": dict(source.parameters)}

    return router


def spec_of(body: RunRequest) -> RunSpec:
    """The core's run description from the form's fields (times parsed as UTC)."""
    return RunSpec(
        symbol=body.symbol.strip().upper(),
        timeframe=body.timeframe,
        start_ns=None if not body.start else parse_utc_time(body.start),
        end_ns=None if not body.end else _end_ns(body.end),
        cash=body.cash,
        currency=body.currency,
        leverage=body.leverage,
        commission=body.commission,
        slippage=body.slippage,
        spread_pips=body.spread_pips,
        mode=body.mode,
        params=dict(body.params),
    )


def _end_ns(text: str) -> int:
    # a bare date means "up to the end of that day", as people mean it
    day_ns = 86_400 * 10**9
    return parse_utc_time(text) + (day_ns if len(text.strip()) <= 10 else 0)


def _library(request: Request) -> StrategyLibrary:
    return StrategyLibrary(_store(request).home / "strategies")


def _jobs(request: Request) -> JobRegistry:
    registry: JobRegistry = request.app.state.jobs
    return registry


def _job(request: Request, job_id: str) -> Job:
    job = _jobs(request).get(job_id)
    if job is None:
        raise NoDataError(f"No backtest job has id {job_id}.")
    return job


def _columns(frame: pd.DataFrame) -> dict[str, object]:
    """A table as columns of JSON values; times as ISO-8601 UTC text, missing values as null."""
    # pandas' JSON writer handles every dtype (times, NaN, categoricals) the same way each time
    split = json.loads(
        frame.to_json(orient="split", index=False, date_format="iso", date_unit="ms")
    )
    columns = [str(column) for column in split["columns"]]
    values = list(zip(*split["data"], strict=True)) if split["data"] else [() for _ in columns]
    return {"columns": columns, "data": {c: list(v) for c, v in zip(columns, values, strict=True)}}


def _store(request: Request) -> StoreAccess:
    access: StoreAccess = request.app.state.store
    return access
