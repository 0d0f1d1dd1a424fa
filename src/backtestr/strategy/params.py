"""Strategy parameters: declared in ``PARAMETERS``, overridden per run (``--param fast=12``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from backtestr.errors import ConfigError, did_you_mean

__all__ = ["ParamValue", "Params", "parse_param_overrides", "resolve_params"]

ParamValue = bool | int | float | str


class Params(Mapping[str, ParamValue]):
    """Read-only parameters, by attribute (``context.params.fast``) or key."""

    _values: dict[str, ParamValue]

    def __init__(self, values: Mapping[str, ParamValue]) -> None:
        object.__setattr__(self, "_values", dict(values))
        # Each parameter is also a plain instance attribute, so that ``params.fast`` in a
        # per-bar callback is an ordinary attribute read: ``__getattr__`` below then only runs
        # for a name that is not a parameter (or one that a Mapping method shadows).
        for name, value in values.items():
            if name.isidentifier() and not hasattr(type(self), name):
                object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> ParamValue:
        values: dict[str, ParamValue] = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(
                f"No parameter '{name}': declared are {', '.join(values) or 'none'}."
                + did_you_mean(name, values)
            ) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Parameters are read-only; override them per run (--param k=v).")

    def __getitem__(self, key: str) -> ParamValue:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


def _coerce(name: str, default: ParamValue, value: object) -> ParamValue:
    if not isinstance(value, str) or isinstance(default, str):
        if isinstance(default, bool) or not isinstance(value, int | float | bool | str):
            if isinstance(value, type(default)):
                return value
        elif isinstance(value, int | float) and isinstance(default, int | float):
            if isinstance(default, int) and not float(value).is_integer():
                raise ConfigError(f"Parameter '{name}' is an integer, got {value!r}.")
            return type(default)(value)
        if isinstance(value, type(default)):
            return value
        raise ConfigError(f"Parameter '{name}' expects {type(default).__name__}, got {value!r}.")
    text = value.strip()
    try:
        if isinstance(default, bool):
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise ConfigError(
            f"Parameter '{name}' expects {type(default).__name__} (default {default!r}), "
            f"got '{text}'."
        ) from None
    return text


def resolve_params(
    declared: Mapping[str, ParamValue], overrides: Mapping[str, object] | None
) -> Params:
    """Declared defaults with overrides applied; unknown names fail with a suggestion."""
    values = dict(declared)
    for name, value in (overrides or {}).items():
        if name not in declared:
            known = ", ".join(declared) or "none (the strategy has no PARAMETERS dict)"
            raise ConfigError(
                f"Unknown parameter '{name}': the strategy declares {known}."
                + did_you_mean(name, declared)
            )
        values[name] = _coerce(name, declared[name], value)
    return Params(values)


def parse_param_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["fast=12", "slow=30"]`` → ``{"fast": "12", "slow": "30"}`` (typed later)."""
    result: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"Bad --param '{item}': write NAME=VALUE, e.g. --param fast=12.")
        result[name.strip()] = value
    return result
