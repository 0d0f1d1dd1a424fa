"""Loading strategy code, and reporting its failures at the line of *the user's* file."""

from __future__ import annotations

import hashlib
import linecache
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from backtestr.errors import ConfigError, StrategyError
from backtestr.strategy.api import missing_attribute_hint
from backtestr.strategy.base import Strategy
from backtestr.strategy.functions import FunctionStrategy
from backtestr.strategy.params import ParamValue

__all__ = ["StrategySource", "load_strategy", "strategy_error"]


@dataclass(frozen=True, slots=True)
class StrategySource:
    """Strategy code as text, ready to instantiate once per run (fresh module state each time).

    ``filename`` is what tracebacks show (the file path, or ``<strategy>`` for inline code).
    """

    source: str
    filename: str
    parameters: Mapping[str, ParamValue] = field(default_factory=dict)
    strategy_class: type[Strategy] | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def instantiate(self) -> Strategy:
        """Execute the code in a fresh module namespace and wrap it as a :class:`Strategy`."""
        if self.strategy_class is not None:
            return self.strategy_class()
        namespace = _execute(self.source, self.filename)
        classes = _strategy_classes(namespace)
        if classes and not callable(namespace.get("handle_data")):
            return classes[0]()
        return FunctionStrategy(namespace)


def _execute(source: str, filename: str) -> dict[str, Any]:
    # Register the text so tracebacks can show the user's lines even for inline code.
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace: dict[str, Any] = {"__name__": "__strategy__", "__file__": filename}
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as error:
        where = f"{filename} line {error.lineno}"
        raise StrategyError(
            f"Syntax error in strategy {where}: {error.msg}\n    {(error.text or '').rstrip()}",
            path=filename,
            line=error.lineno,
        ) from None
    try:
        exec(code, namespace)
    except Exception as error:
        raise strategy_error(error, filename, "loading the strategy") from error
    return namespace


def _strategy_classes(namespace: Mapping[str, Any]) -> list[type[Strategy]]:
    return [
        value
        for value in namespace.values()
        if isinstance(value, type)
        and issubclass(value, Strategy)
        and value is not Strategy
        and value.__module__ == "__strategy__"
    ]


def load_strategy(strategy: str | Path | type[Strategy]) -> StrategySource:
    """Load a strategy from a ``.py`` file, from code text, or from a :class:`Strategy` class.

    Raises
    ------
    ConfigError
        When the file does not exist or declares ``PARAMETERS`` that are not a dict of simple
        values.
    StrategyError
        When the code does not compile or fails while loading (with its line).
    """
    if isinstance(strategy, type):
        parameters = dict(strategy.PARAMETERS)
        _check_parameters(parameters, strategy.__name__)
        return StrategySource(
            source=_class_source(strategy),
            filename=f"<{strategy.__name__}>",
            parameters=parameters,
            strategy_class=strategy,
        )
    text: str
    if isinstance(strategy, Path) or (
        isinstance(strategy, str) and "\n" not in strategy and strategy.endswith(".py")
    ):
        path = Path(strategy)
        if not path.is_file():
            raise ConfigError(f"Strategy file not found: {path}")
        text = path.read_text(encoding="utf-8")
        filename = str(path)
    else:
        text = str(strategy)
        filename = "<strategy>"
    namespace = _execute(text, filename)
    parameters = namespace.get("PARAMETERS", {})
    classes = _strategy_classes(namespace)
    if not parameters and classes:
        parameters = dict(classes[0].PARAMETERS)
    _check_parameters(parameters, filename)
    if not callable(namespace.get("handle_data")) and not classes:
        raise ConfigError(
            f"{filename} defines neither handle_data(context, data) nor a Strategy subclass."
        )
    return StrategySource(source=text, filename=filename, parameters=dict(parameters))


def _class_source(cls: type) -> str:
    import inspect

    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return f"# source of {cls.__qualname__} not available\n"


def _check_parameters(parameters: object, where: str) -> None:
    if not isinstance(parameters, dict) or not all(
        isinstance(k, str) and isinstance(v, bool | int | float | str)
        for k, v in parameters.items()
    ):
        raise ConfigError(
            f"PARAMETERS in {where} must be a dict of names to numbers, booleans or strings, "
            'e.g. PARAMETERS = {"fast": 10, "slow": 30}.'
        )


def strategy_error(error: BaseException, filename: str, during: str) -> StrategyError:
    """A :class:`StrategyError` pointing at the innermost line of ``filename`` in the traceback."""
    frames = traceback.extract_tb(_traceback_of(error))
    mine = [f for f in frames if f.filename == filename]
    name = type(error).__name__
    detail = missing_attribute_hint(error) or str(error)
    if not mine:
        return StrategyError(f"Strategy failed while {during}: {name}: {detail}", path=filename)
    frame = mine[-1]
    line = (frame.line or "").strip()
    message = (
        f"Strategy failed while {during}: {name}: {detail}\n"
        f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {line}'
    )
    return StrategyError(message, path=filename, line=frame.lineno)


def _traceback_of(error: BaseException) -> TracebackType | None:
    return error.__traceback__
