"""Saved runs: list, read, delete. Generic over what a run holds (a manifest plus named tables),
so they serve runs saved by the engine (issue 3) without knowing its result layout. Starting a
run, its progress and replay come with the engine."""

from __future__ import annotations

import json
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from backtestr.errors import NoDataError
from backtestr.server.payloads import JsonObject
from backtestr.server.store_access import StoreAccess

__all__ = ["runs_router"]

_MAX_ROWS_PER_REQUEST = 100_000


def runs_router() -> APIRouter:
    router = APIRouter(prefix="/api/runs")

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

    @router.delete("/{run_id}")
    def delete_run(request: Request, run_id: str) -> JsonObject:
        with _store(request).use() as store:
            store.delete_run(run_id)
        return {"run_id": run_id, "deleted": True}

    return router


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
