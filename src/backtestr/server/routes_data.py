"""Data routes: formats, datasets, imports (background, with progress), bars for the chart.

Each route parses its input, calls one function of the store, and maps the result to JSON.
Domain errors are not caught here: :func:`backtestr.server.app.create_app` maps them all.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from backtestr.data.sources import FORMATS, open_market_file
from backtestr.errors import ConfigError, NoDataError
from backtestr.model import PriceSide, Timeframe
from backtestr.server.jobs import Job, JobRegistry, JobState, job_events, job_snapshot
from backtestr.server.payloads import (
    JsonObject,
    bars_payload,
    dataset_payload,
    format_payload,
    summary_payload,
)
from backtestr.server.settings import ServerSettings
from backtestr.server.store_access import StoreAccess

__all__ = ["data_router"]

_COPY_CHUNK_BYTES = 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_BARS_PER_REQUEST = 50_000
_DETECT_SAMPLE_BYTES = 1024 * 1024


def data_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.get("/formats")
    def list_formats() -> list[JsonObject]:
        return [format_payload(source_format) for source_format in FORMATS.values()]

    @router.post("/formats/detect")
    def detect_format(
        request: Request,
        sample: Annotated[UploadFile, File()],
        symbol: Annotated[str, Form()] = "EURUSD",
    ) -> JsonObject:
        """What the importer would make of a file, from its first lines (sent by the browser)."""
        folder = _settings(request).home / "staging" / f"detect-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        try:
            path = _save_upload(sample, folder, _DETECT_SAMPLE_BYTES)
            with open_market_file(path, symbol=symbol or "EURUSD") as reader:
                return {
                    "format": reader.format.name,
                    "kind": reader.format.kind.value,
                    "description": reader.format.description,
                    "side": None if reader.side is None else reader.side.value,
                    "timeframe": None if reader.timeframe is None else reader.timeframe.name,
                }
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @router.get("/timeframes")
    def list_timeframes() -> list[str]:
        return [timeframe.name for timeframe in Timeframe.standard()]

    @router.get("/datasets")
    def list_datasets(request: Request) -> list[JsonObject]:
        with _store(request).use() as store:
            return [dataset_payload(row) for row in store.datasets()]

    @router.delete("/datasets/{symbol}")
    def remove_dataset(
        request: Request, symbol: str, kind: Annotated[str | None, Query()] = None
    ) -> JsonObject:
        with _store(request).use() as store:
            removed = store.remove(symbol, kind or None)
        return {"symbol": symbol.upper(), "kind": kind, "partitions_removed": len(removed)}

    @router.post("/imports", status_code=202)
    def start_import(
        request: Request,
        file: Annotated[UploadFile, File()],
        symbol: Annotated[str, Form()],
        format: Annotated[str, Form()] = "",
        side: Annotated[str, Form()] = "",
        timeframe: Annotated[str, Form()] = "",
        tz: Annotated[str, Form()] = "",
        crossed: Annotated[str, Form()] = "reject",
    ) -> JsonObject:
        if not symbol.strip():
            raise ConfigError("Give the symbol the file holds, e.g. EURUSD.")
        if format and format not in FORMATS:
            raise ConfigError(f"Unknown format '{format}': use one of {', '.join(FORMATS)}.")
        access = _store(request)
        folder = access.home / "staging" / f"upload-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        try:
            path = _save_upload(file, folder, _settings(request).max_upload_bytes)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

        def work(job: Job) -> JsonObject:
            with access.use() as store:
                summary = store.import_file(
                    path,
                    symbol=symbol,
                    format=format or None,
                    tz=tz or None,
                    crossed=crossed or "reject",
                    side=side or None,
                    timeframe=timeframe or None,
                    on_progress=job.report,
                )
            return summary_payload(summary)

        job = _jobs(request).start(
            "import", work, lambda: shutil.rmtree(folder, ignore_errors=True)
        )
        return {"job_id": job.job_id, "state": job.state.value}

    @router.get("/imports/{job_id}", response_model=None)
    def import_result(request: Request, job_id: str) -> JSONResponse:
        job = _job(request, job_id)
        if job.state is JobState.RUNNING:
            return JSONResponse(job_snapshot(job), status_code=202)
        if job.error is not None:
            status, body = job.error
            return JSONResponse({**body, "state": job.state.value}, status_code=status)
        return JSONResponse({"state": job.state.value, "summary": job.result})

    @router.get("/imports/{job_id}/events", response_model=None)
    def import_events(request: Request, job_id: str) -> StreamingResponse:
        job = _job(request, job_id)
        return StreamingResponse(job_events(job), media_type="text/event-stream")

    @router.get("/bars")
    def bars(
        request: Request,
        symbol: str,
        timeframe: str = "H1",
        side: str = "bid",
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=_MAX_BARS_PER_REQUEST)] = 5_000,
    ) -> JsonObject:
        frame = Timeframe.parse(timeframe)
        price_side = PriceSide.parse(side)
        start_ns = None if start is None else parse_utc_time(start)
        end_ns = None if end is None else parse_utc_time(end)
        with _store(request).use() as store:
            page = store.latest_bars(
                symbol,
                frame,
                side=price_side,
                start_ns=start_ns,
                end_ns=end_ns,
                limit=limit,
            )
        return bars_payload(
            page.bars,
            symbol=symbol.upper(),
            timeframe=frame.name,
            side=price_side.value,
            has_more=page.has_more,
        )

    return router


def _store(request: Request) -> StoreAccess:
    access: StoreAccess = request.app.state.store
    return access


def _jobs(request: Request) -> JobRegistry:
    registry: JobRegistry = request.app.state.jobs
    return registry


def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def _job(request: Request, job_id: str) -> Job:
    job = _jobs(request).get(job_id)
    if job is None:
        raise NoDataError(f"No import job has id {job_id}.")
    return job


def _safe_file_name(name: str | None) -> str:
    """The client's file name reduced to a harmless basename (kept: it names the file in errors
    and its extension tells compressed and Parquet files apart). Never a path from the client."""
    base = _SAFE_NAME.sub("_", Path(name or "").name).strip("._")
    return base[-120:] or "upload.csv"


def _save_upload(upload: UploadFile, folder: Path, max_bytes: int) -> Path:
    target = folder / _safe_file_name(upload.filename)
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(_COPY_CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise HTTPException(
                    413, f"The file is larger than the {max_bytes:,} bytes allowed."
                )
            out.write(chunk)
    return target


def parse_utc_time(text: str) -> int:
    """ISO-8601 text (UTC unless it carries an offset) or epoch seconds → int64 nanoseconds."""
    try:
        stamp = (
            pd.Timestamp(int(text), unit="s", tz="UTC")
            if text.strip().lstrip("-").isdigit()
            else pd.Timestamp(text)
        )
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"Cannot read the time '{text}': use ISO-8601 (2019-02-04T13:30Z) or epoch seconds."
        ) from error
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)
