"""The catalog: one DuckDB file that says which lake files make up the store.

The catalog is the single source of truth. A lake file that no catalog row names does not exist as
far as readers are concerned (it is an unfinished import, collected later); a catalog change is
one transaction. That is what makes imports atomic even when the process is killed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from backtestr.errors import StoreError

__all__ = [
    "Catalog",
    "DatasetRow",
    "ImportRecord",
    "PartitionRow",
    "RunRow",
    "SweepRow",
    "TrialRecord",
]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS instruments (symbol VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS partitions (
    symbol VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,       -- 'ticks' or a timeframe name such as 'M1'
    side VARCHAR NOT NULL,       -- 'quote' for ticks, 'bid' / 'ask' / 'mid' for bars
    period VARCHAR NOT NULL,     -- '2019-02' for ticks, '2019' for bars
    path VARCHAR NOT NULL,       -- relative to the lake folder
    rows BIGINT NOT NULL,
    first_ns BIGINT NOT NULL,
    last_ns BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    PRIMARY KEY (symbol, kind, side, period)
);
CREATE TABLE IF NOT EXISTS imports (
    import_id VARCHAR PRIMARY KEY,
    imported_at TIMESTAMPTZ NOT NULL,
    source VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    sides VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_stored BIGINT NOT NULL,
    rows_replaced BIGINT NOT NULL,
    duplicates_dropped BIGINT NOT NULL,
    first_ns BIGINT,
    last_ns BIGINT,
    details VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    path VARCHAR NOT NULL,
    manifest VARCHAR NOT NULL
);
-- parameter sweeps (added without a schema bump: new tables only, older versions ignore them)
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    spec VARCHAR NOT NULL        -- JSON: strategy, data, settings, space, method, objective
);
CREATE TABLE IF NOT EXISTS trials (
    trial_key VARCHAR PRIMARY KEY,  -- identity of the result: strategy, parameters, data, settings
    sweep_id VARCHAR NOT NULL,      -- the sweep that computed it
    created_at TIMESTAMPTZ NOT NULL,
    params VARCHAR NOT NULL,        -- JSON
    stats VARCHAR NOT NULL,         -- JSON (NaN kept)
    daily_returns BLOB NOT NULL,    -- float64, native bytes: read back bit for bit
    trade_pnls BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_trials (
    sweep_id VARCHAR NOT NULL,
    trial_key VARCHAR NOT NULL,
    seq BIGINT NOT NULL,            -- order of completion within the sweep
    objective DOUBLE,               -- the sweep's objective for this trial (NULL: undefined)
    PRIMARY KEY (sweep_id, trial_key)
);
"""


@dataclass(frozen=True, slots=True)
class PartitionRow:
    """One Parquet file of the lake: a symbol's ticks of one month, or bars of one year."""

    symbol: str
    kind: str
    side: str
    period: str
    path: str
    rows: int
    first_ns: int
    last_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class DatasetRow:
    """A symbol's data of one kind and side, summed over its partitions."""

    symbol: str
    kind: str
    side: str
    rows: int
    first_ns: int
    last_ns: int
    partitions: int
    content_sha256: str


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One line of the import history."""

    import_id: str
    imported_at_iso: str
    source: str
    format: str
    symbol: str
    kind: str
    sides: str
    rows_read: int
    rows_stored: int
    rows_replaced: int
    duplicates_dropped: int
    first_ns: int | None
    last_ns: int | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunRow:
    run_id: str
    created_at_iso: str
    path: str
    manifest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SweepRow:
    sweep_id: str
    created_at_iso: str
    spec: dict[str, Any]
    trials: int  # results recorded for this sweep


@dataclass(frozen=True, slots=True, eq=False)
class TrialRecord:
    """One stored trial result, as plain values (the optimizer converts its own types)."""

    key: str
    params: dict[str, Any]
    stats: dict[str, Any]
    objective: float  # nan when undefined
    daily_returns: npt.NDArray[np.float64]
    trade_pnls: npt.NDArray[np.float64]


class Catalog:
    """Typed access to ``catalog.duckdb``. Open with :meth:`open`; close when done."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Catalog:
        """Open (creating if needed) the catalog at ``path``.

        Raises
        ------
        StoreError
            When another process holds the catalog or the file is not a DuckDB database.
        """
        try:
            connection = duckdb.connect(str(path))
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise StoreError(
                    f"The data home {path.parent} is in use by another BackTestr process; "
                    "close it (or use another --home) and try again."
                ) from error
            raise StoreError(f"Cannot open the catalog {path}: {error}") from error
        except duckdb.Error as error:
            raise StoreError(
                f"The catalog {path} is not a readable DuckDB database ({error}); move it away "
                "to start a fresh store (the Parquet files under lake/ stay readable)."
            ) from error
        catalog = cls(connection, path)
        catalog._migrate()
        return catalog

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        with self.transaction():
            self._db.execute(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"The catalog {self.path} was written by a newer BackTestr (schema {row[0]}, "
                    f"this version reads {SCHEMA_VERSION}); upgrade BackTestr."
                )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""
        self._db.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---- instruments -------------------------------------------------------------------------

    def instrument_spec(self, symbol: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT spec FROM instruments WHERE symbol = ?", [symbol]).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put_instrument_spec(self, symbol: str, spec: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO instruments VALUES (?, ?)", [symbol, json.dumps(spec)]
        )

    # ---- partitions and datasets -------------------------------------------------------------

    def partitions(
        self,
        symbol: str | None = None,
        kind: str | None = None,
        side: str | None = None,
    ) -> list[PartitionRow]:
        where, params = _filters(symbol=symbol, kind=kind, side=side)
        rows = self._db.execute(
            "SELECT symbol, kind, side, period, path, rows, first_ns, last_ns, sha256 "
            f"FROM partitions {where} ORDER BY symbol, kind, side, first_ns",
            params,
        ).fetchall()
        return [PartitionRow(*row) for row in rows]

    def replace_partitions(
        self, removed: Iterable[PartitionRow], added: Iterable[PartitionRow]
    ) -> None:
        """Swap partition rows; call inside :meth:`transaction`."""
        for row in removed:
            self._db.execute(
                "DELETE FROM partitions WHERE symbol = ? AND kind = ? AND side = ? AND period = ?",
                [row.symbol, row.kind, row.side, row.period],
            )
        for row in added:
            self._db.execute(
                "INSERT INTO partitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    row.symbol,
                    row.kind,
                    row.side,
                    row.period,
                    row.path,
                    row.rows,
                    row.first_ns,
                    row.last_ns,
                    row.sha256,
                ],
            )

    def datasets(self, symbol: str | None = None) -> list[DatasetRow]:
        where, params = _filters(symbol=symbol)
        rows = self._db.execute(
            "SELECT symbol, kind, side, SUM(rows)::BIGINT, MIN(first_ns), MAX(last_ns), COUNT(*), "
            "sha256(string_agg(sha256, '' ORDER BY first_ns)) "
            f"FROM partitions {where} GROUP BY symbol, kind, side ORDER BY symbol, kind, side",
            params,
        ).fetchall()
        return [DatasetRow(*row) for row in rows]

    def remove_symbol(self, symbol: str, kind: str | None = None) -> list[PartitionRow]:
        """Delete a symbol's partition rows (all kinds, or one); returns what was removed."""
        removed = self.partitions(symbol=symbol, kind=kind)
        self.replace_partitions(removed, [])
        if kind is None:
            self._db.execute("DELETE FROM instruments WHERE symbol = ?", [symbol])
        return removed

    def referenced_paths(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT path FROM partitions").fetchall()}

    # ---- import history ----------------------------------------------------------------------

    def add_import(self, record: ImportRecord) -> None:
        self._db.execute(
            "INSERT INTO imports VALUES (?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record.import_id,
                record.imported_at_iso,
                record.source,
                record.format,
                record.symbol,
                record.kind,
                record.sides,
                record.rows_read,
                record.rows_stored,
                record.rows_replaced,
                record.duplicates_dropped,
                record.first_ns,
                record.last_ns,
                json.dumps(record.details),
            ],
        )

    def imports(self, symbol: str | None = None) -> list[ImportRecord]:
        where, params = _filters(symbol=symbol)
        rows = self._db.execute(
            "SELECT import_id, strftime(imported_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), "
            "source, format, symbol, kind, sides, rows_read, rows_stored, rows_replaced, "
            f"duplicates_dropped, first_ns, last_ns, details FROM imports {where} "
            "ORDER BY imported_at",
            params,
        ).fetchall()
        names = [f.name for f in fields(ImportRecord)][:-1]
        return [
            ImportRecord(**dict(zip(names, row[:-1], strict=True)), details=json.loads(row[-1]))
            for row in rows
        ]

    # ---- runs --------------------------------------------------------------------------------

    def add_run(
        self, run_id: str, created_at_iso: str, path: str, manifest: dict[str, Any]
    ) -> None:
        self._db.execute(
            "INSERT INTO runs VALUES (?, ?::TIMESTAMPTZ, ?, ?)",
            [run_id, created_at_iso, path, json.dumps(manifest, sort_keys=True)],
        )

    def runs(self, run_id: str | None = None) -> list[RunRow]:
        where, params = _filters(run_id=run_id)
        rows = self._db.execute(
            "SELECT run_id, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), path, "
            f"manifest FROM runs {where} ORDER BY created_at, run_id",
            params,
        ).fetchall()
        return [RunRow(row[0], row[1], row[2], json.loads(row[3])) for row in rows]

    def delete_run(self, run_id: str) -> None:
        self._db.execute("DELETE FROM runs WHERE run_id = ?", [run_id])

    # ---- sweeps ------------------------------------------------------------------------------

    def add_sweep(self, sweep_id: str, created_at_iso: str, spec: dict[str, Any]) -> bool:
        """Record a sweep unless it is known already; returns whether it was new."""
        if self._db.execute("SELECT 1 FROM sweeps WHERE sweep_id = ?", [sweep_id]).fetchone():
            return False
        self._db.execute(
            "INSERT INTO sweeps VALUES (?, ?::TIMESTAMPTZ, ?)",
            [sweep_id, created_at_iso, json.dumps(spec, sort_keys=True)],
        )
        return True

    def sweeps(self, sweep_id: str | None = None) -> list[SweepRow]:
        where, params = _filters(sweep_id=sweep_id)
        rows = self._db.execute(
            "SELECT s.sweep_id, strftime(s.created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), "
            "s.spec, (SELECT COUNT(*) FROM sweep_trials t WHERE t.sweep_id = s.sweep_id) "
            f"FROM sweeps s {where.replace('sweep_id', 's.sweep_id')} "
            "ORDER BY s.created_at, s.sweep_id",
            params,
        ).fetchall()
        return [SweepRow(row[0], row[1], json.loads(row[2]), int(row[3])) for row in rows]

    def add_trial(self, sweep_id: str, created_at_iso: str, record: TrialRecord) -> None:
        """Record a result (kept once per key) and its membership of ``sweep_id``; call inside
        :meth:`transaction`."""
        self._db.execute(
            "INSERT OR IGNORE INTO trials VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?)",
            [
                record.key,
                sweep_id,
                created_at_iso,
                # key order kept: it is the order of the parameters and statistics columns
                json.dumps(record.params),
                json.dumps(record.stats),
                _blob(record.daily_returns),
                _blob(record.trade_pnls),
            ],
        )
        self._db.execute(
            "INSERT OR IGNORE INTO sweep_trials SELECT ?, ?, "
            "(SELECT COUNT(*) FROM sweep_trials WHERE sweep_id = ?), ?",
            [
                sweep_id,
                record.key,
                sweep_id,
                None if np.isnan(record.objective) else record.objective,
            ],
        )

    def trials(self, keys: Sequence[str]) -> dict[str, TrialRecord]:
        """Stored results by key (keys not stored are left out); objectives are ``nan``."""
        if not keys:
            return {}
        rows = self._db.execute(
            "SELECT t.trial_key, t.params, t.stats, NULL, t.daily_returns, t.trade_pnls "
            "FROM trials t WHERE t.trial_key IN (SELECT unnest(?::VARCHAR[]))",
            [list(keys)],
        ).fetchall()
        return {row[0]: _trial(row) for row in rows}

    def sweep_trials(self, sweep_id: str) -> list[TrialRecord]:
        """A sweep's results in the order they were recorded, with the sweep's objective."""
        rows = self._db.execute(
            "SELECT t.trial_key, t.params, t.stats, m.objective, t.daily_returns, t.trade_pnls "
            "FROM sweep_trials m JOIN trials t ON t.trial_key = m.trial_key "
            "WHERE m.sweep_id = ? ORDER BY m.seq",
            [sweep_id],
        ).fetchall()
        return [_trial(row) for row in rows]


def _blob(values: npt.NDArray[np.float64]) -> bytes:
    return np.ascontiguousarray(values, dtype="<f8").tobytes()


def _trial(row: tuple[Any, ...]) -> TrialRecord:
    return TrialRecord(
        key=row[0],
        params=json.loads(row[1]),
        stats=json.loads(row[2]),
        objective=float("nan") if row[3] is None else float(row[3]),
        daily_returns=np.frombuffer(row[4], dtype="<f8").astype(np.float64),
        trade_pnls=np.frombuffer(row[5], dtype="<f8").astype(np.float64),
    )


def _filters(**equal: str | None) -> tuple[str, Sequence[str]]:
    clauses = [(f"{name} = ?", value) for name, value in equal.items() if value is not None]
    if not clauses:
        return "", []
    return "WHERE " + " AND ".join(c for c, _ in clauses), [v for _, v in clauses]
