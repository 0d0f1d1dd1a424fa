"""Point-in-time windows over a bar series, cheap to create and cheap to reduce.

``data.history(symbol, "close", 20)`` is called on every bar by most strategies. Building a numpy
slice and reducing it costs microseconds; instead it returns a :class:`Window` — three fields,
no copy — whose ``mean``/``sum``/``min``/``max``/``std``/``[-1]`` read a per-window result
computed once for the whole series by a compiled kernel (each window summed on its own, so the
result equals numpy's to rounding and depends only on the bars inside the window: no look-ahead).
For anything else the window behaves as a read-only numpy array of its bars.

Windows that reach before the first bar are padded with NaN at the front, as zipline does, so
their reductions are NaN and comparisons with them are false.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numba import njit

from backtestr.engine.views import elements
from backtestr.model.arrays import F64

__all__ = ["Series", "Window"]

# Windows longer than this are reduced by numpy on demand rather than precomputed.
MAX_CACHED_WINDOW = 512
_MEAN, _SUM, _MIN, _MAX, _STD = 0, 1, 2, 3, 4


@njit(cache=True)
def _rolling(values: F64, n: int, op: int) -> F64:  # pragma: no cover - compiled
    size = len(values)
    out = np.full(size, np.nan)
    for end in range(n, size + 1):
        start = end - n
        if _MIN <= op <= _MAX:  # min or max
            best = values[start]
            bad = math.isnan(best)
            for k in range(start + 1, end):
                v = values[k]
                if math.isnan(v):
                    bad = True
                elif (op == _MIN and v < best) or (op == _MAX and v > best):
                    best = v
            out[end - 1] = np.nan if bad else best
            continue
        total = 0.0
        for k in range(start, end):
            total += values[k]
        if op == _SUM:
            out[end - 1] = total
            continue
        mean = total / n
        if op == _MEAN:
            out[end - 1] = mean
            continue
        squares = 0.0
        for k in range(start, end):
            d = values[k] - mean
            squares += d * d
        out[end - 1] = math.sqrt(squares / n)
    return out


class Series:
    """One field of one symbol's bars at one timeframe, with lazily cached window reductions.

    ``caches[op][n][end]`` is reduction ``op`` of the ``n`` values before index ``end`` (an
    element view of an array with a leading NaN, so that ``end`` indexes it directly and windows
    reaching before the first value read NaN).
    """

    __slots__ = ("caches", "items", "name", "values")

    def __init__(self, values: F64, name: str = "") -> None:
        self.values = values
        self.name = name
        self.items: Sequence[float] = elements(values)
        self.caches: tuple[dict[int, Sequence[float]], ...] = ({}, {}, {}, {}, {})

    def build(self, op: int, n: int) -> Sequence[float]:
        if n < 1:
            raise ValueError(f"a window needs at least one bar, got {n}")
        if n > MAX_CACHED_WINDOW:
            return _SlowReductions(self.values, op, n)  # type: ignore[return-value]
        cached: Sequence[float] = elements(
            np.concatenate([[math.nan], _rolling(self.values, n, op)])
        )
        self.caches[op][n] = cached
        return cached


class _SlowReductions:
    """Reductions of long windows, computed by numpy per request instead of cached."""

    __slots__ = ("n", "op", "values")

    def __init__(self, values: F64, op: int, n: int) -> None:
        self.values, self.op, self.n = values, op, n

    def __getitem__(self, end: int) -> float:
        if end < self.n:
            return math.nan
        view = self.values[end - self.n : end]
        functions: list[Callable[[F64], Any]] = [np.mean, np.sum, np.min, np.max, np.std]
        return float(functions[self.op](view))


def _reduce(window: Window, op: int) -> float:
    series = window._series
    cached = series.caches[op].get(window._n)
    if cached is None:
        cached = series.build(op, window._n)
    return cached[window._end]


class Window:
    """The last ``n`` closed bars of a series at one moment; a numpy array in disguise."""

    __slots__ = ("_end", "_ends", "_n", "_series")

    def __init__(self, series: Series, end: int, n: int, ends: Sequence[int] | None = None) -> None:
        self._series = series
        self._end = end
        self._n = n
        # per step, the ``end`` of a window taken then: lets a reused window move in one read
        self._ends = ends

    # fast paths: one dictionary and one list lookup each --------------------------------
    def mean(self, *args: Any, **kwargs: Any) -> float:
        if args or kwargs:
            return float(np.mean(self.__array__(), *args, **kwargs))
        try:
            return self._series.caches[0][self._n][self._end]
        except KeyError:
            return _reduce(self, _MEAN)

    def sum(self, *args: Any, **kwargs: Any) -> float:
        if args or kwargs:
            return float(np.sum(self.__array__(), *args, **kwargs))
        try:
            return self._series.caches[1][self._n][self._end]
        except KeyError:
            return _reduce(self, _SUM)

    def min(self, *args: Any, **kwargs: Any) -> float:
        if args or kwargs:
            return float(np.min(self.__array__(), *args, **kwargs))
        try:
            return self._series.caches[2][self._n][self._end]
        except KeyError:
            return _reduce(self, _MIN)

    def max(self, *args: Any, **kwargs: Any) -> float:
        if args or kwargs:
            return float(np.max(self.__array__(), *args, **kwargs))
        try:
            return self._series.caches[3][self._n][self._end]
        except KeyError:
            return _reduce(self, _MAX)

    def std(self, *args: Any, **kwargs: Any) -> float:
        if args or kwargs:
            return float(np.std(self.__array__(), *args, **kwargs))
        try:
            return self._series.caches[4][self._n][self._end]
        except KeyError:
            return _reduce(self, _STD)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, key: Any) -> Any:
        if type(key) is int:
            n = self._n
            if -n <= key < 0:
                index = self._end + key
            elif 0 <= key < n:
                index = self._end - n + key
            else:
                raise IndexError(f"index {key} is out of bounds for a window of {n} bars")
            return self._series.items[index] if index >= 0 else math.nan
        return self.__array__()[key]

    # the numpy face -------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> F64:
        if self._n < 1:
            raise ValueError(f"a window needs at least one bar, got {self._n}")
        start = self._end - self._n
        values = self._series.values
        if start >= 0:
            array = values[start : self._end]
        else:
            array = np.concatenate([np.full(-start, np.nan), values[: self._end]])
        array = array.view()
        array.flags.writeable = False
        if dtype is not None:
            return array.astype(dtype)
        return array

    def __iter__(self) -> Iterator[float]:
        return iter(self.__array__().tolist())

    def __repr__(self) -> str:
        return f"Window({self.__array__()!r})"

    def __bool__(self) -> bool:
        return bool(self.__array__())


def _binary(op: Callable[[Any, Any], Any], reflected: bool) -> Callable[[Window, Any], Any]:
    def method(self: Window, other: Any) -> Any:
        other = other.__array__() if isinstance(other, Window) else other
        return op(other, self.__array__()) if reflected else op(self.__array__(), other)

    return method


def _unary(op: Callable[[Any], Any]) -> Callable[[Window], Any]:
    def method(self: Window) -> Any:
        return op(self.__array__())

    return method


for _name, _op in {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "matmul": operator.matmul,
}.items():
    setattr(Window, f"__{_name}__", _binary(_op, reflected=False))
    setattr(Window, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}.items():
    setattr(Window, f"__{_name}__", _binary(_op, reflected=False))
_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": operator.abs,
}
for _name, _unary_op in _UNARY.items():
    setattr(Window, f"__{_name}__", _unary(_unary_op))


def _forward(name: str) -> property:
    def read(self: Window) -> Any:
        return getattr(self.__array__(), name)

    return property(read, doc=f"``numpy.ndarray.{name}`` of the window's bars.")


# Every other public ndarray attribute (``shape``, ``argmax``, ``cumsum`` …) reads the array.
# Explicit properties, not a ``__getattr__`` hook: a class with that hook pays for it on every
# attribute read, including the window's own fields inside ``mean()``.
for _name in dir(np.ndarray):
    if not _name.startswith("_") and not hasattr(Window, _name):
        setattr(Window, _name, _forward(_name))
