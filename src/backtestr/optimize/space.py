"""What a sweep explores: parameter ranges (``fast=5:50:5``), their grid, random samples of it,
and constraints between parameters (``fast < slow``)."""

from __future__ import annotations

import ast
import itertools
import math
import operator
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from backtestr.errors import ConfigError, did_you_mean
from backtestr.strategy.params import ParamValue

__all__ = ["Constraint", "ParamRange", "ParamSpace"]

# A grid larger than this is almost certainly a typo in a step (use --method random or bayes).
MAX_GRID = 10_000_000


@dataclass(frozen=True, slots=True)
class ParamRange:
    """The values one parameter takes in a sweep, in order.

    Text forms: ``start:stop:step`` (stop included when the steps land on it), ``start:stop``
    (step 1), a comma list ``a,b,c`` (numbers, ``true``/``false`` or words), or one value.
    """

    name: str
    values: tuple[ParamValue, ...]

    @classmethod
    def parse(cls, text: str) -> ParamRange:
        """Parse ``name=spec``.

        Raises
        ------
        ConfigError
            When the text is not ``name=spec`` or the spec is not a range or list.
        """
        name, sep, spec = text.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name.isidentifier() or not spec:
            raise ConfigError(
                f"Bad --param '{text}': write name=start:stop:step (e.g. fast=5:50:5), "
                "name=a,b,c or name=value."
            )
        if ":" in spec:
            return cls(name, _numeric_range(name, spec))
        values = tuple(_scalar(part.strip()) for part in spec.split(","))
        if any(part == "" for part in values):
            raise ConfigError(f"Bad --param '{text}': an empty value in the list.")
        if len(set(values)) != len(values):
            raise ConfigError(f"Bad --param '{text}': a value is listed twice.")
        return cls(name, values)

    def __len__(self) -> int:
        return len(self.values)


def _numeric_range(name: str, spec: str) -> tuple[ParamValue, ...]:
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ConfigError(f"Bad range for '{name}': '{spec}' (write start:stop:step).")
    try:
        start, stop = Decimal(parts[0]), Decimal(parts[1])
        step = Decimal(parts[2]) if len(parts) == 3 else Decimal(1)
    except InvalidOperation:
        raise ConfigError(
            f"Bad range for '{name}': '{spec}' holds a non-number (write start:stop:step)."
        ) from None
    if not all(d.is_finite() for d in (start, stop, step)):
        raise ConfigError(f"Bad range for '{name}': '{spec}' must be finite numbers.")
    if step <= 0:
        raise ConfigError(f"Bad range for '{name}': the step must be positive, got {step}.")
    if stop < start:
        raise ConfigError(f"Bad range for '{name}': stop {stop} is below start {start}.")
    count = int((stop - start) // step) + 1
    if count > MAX_GRID:
        raise ConfigError(f"Range for '{name}' has {count:,} values: is the step right?")
    integral = all("." not in p and "e" not in p.lower() for p in parts)
    # Decimal arithmetic: 0.1:0.3:0.1 gives exactly 0.1, 0.2, 0.3, not 0.30000000000000004
    values = [start + step * i for i in range(count)]
    return tuple(int(v) for v in values) if integral else tuple(float(v) for v in values)


def _scalar(text: str) -> ParamValue:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


_OPERATORS: dict[type[ast.AST], Callable[..., object]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}


@dataclass(frozen=True, slots=True)
class Constraint:
    """A condition on parameters, e.g. ``fast < slow`` or ``slow - fast >= 10 and stop > 0``.

    Only arithmetic, comparisons, ``and``/``or``/``not``, numbers and parameter names are
    allowed: the text is parsed, never ``eval``-ed.
    """

    text: str
    _tree: ast.Expression

    @classmethod
    def parse(cls, text: str, names: Sequence[str]) -> Constraint:
        """Parse ``text``, whose names must all be among ``names``.

        Raises
        ------
        ConfigError
            On a syntax error, a construct that is not allowed, or an unknown name.
        """
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as error:
            raise ConfigError(
                f"Bad --constraint '{text}': {error.msg} at column {error.offset}."
            ) from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if node.id not in names:
                    raise ConfigError(
                        f"Bad --constraint '{text}': '{node.id}' is not a swept parameter "
                        f"(swept: {', '.join(names)})." + did_you_mean(node.id, names)
                    )
            elif isinstance(node, ast.Constant):
                if not isinstance(node.value, int | float | bool):
                    raise ConfigError(f"Bad --constraint '{text}': only numbers are allowed.")
            elif not isinstance(
                node,
                ast.Expression | ast.Compare | ast.BoolOp | ast.BinOp | ast.UnaryOp
                | ast.And | ast.Or | ast.Load | ast.cmpop | ast.operator | ast.unaryop,
            ) or (isinstance(node, ast.cmpop | ast.operator | ast.unaryop)
                  and type(node) not in _OPERATORS):  # fmt: skip
                raise ConfigError(
                    f"Bad --constraint '{text}': '{type(node).__name__}' is not allowed; "
                    "use arithmetic, comparisons, and/or/not, numbers and parameter names."
                )
        return cls(text.strip(), tree)

    def __call__(self, params: Mapping[str, ParamValue]) -> bool:
        try:
            return bool(_evaluate(self._tree.body, params))
        except ZeroDivisionError:
            return False


def _evaluate(node: ast.expr, params: Mapping[str, ParamValue]) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return params[node.id]
    if isinstance(node, ast.UnaryOp):
        return _OPERATORS[type(node.op)](_evaluate(node.operand, params))
    if isinstance(node, ast.BinOp):
        return _OPERATORS[type(node.op)](
            _evaluate(node.left, params), _evaluate(node.right, params)
        )
    if isinstance(node, ast.BoolOp):
        values = (_evaluate(v, params) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, params)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, params)
            if not _OPERATORS[type(op)](left, right):
                return False
            left = right
        return True
    raise ConfigError(f"Unsupported expression {ast.dump(node)}")  # refused by parse already


@dataclass(frozen=True, slots=True)
class ParamSpace:
    """The parameter sets a sweep may try: the product of the ranges, minus those that break a
    constraint. Fixed parameters (one value) are part of every set."""

    ranges: tuple[ParamRange, ...]
    constraints: tuple[Constraint, ...] = ()

    @classmethod
    def parse(cls, params: Sequence[str], constraints: Sequence[str] = ()) -> ParamSpace:
        """From CLI texts (``--param fast=5:50:5 --constraint "fast < slow"``)."""
        ranges = tuple(ParamRange.parse(text) for text in params)
        names = [r.name for r in ranges]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"Parameter {', '.join(twice)} is given twice in --param.")
        return cls(ranges, tuple(Constraint.parse(text, names) for text in constraints))

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.ranges]

    @property
    def grid_size(self) -> int:
        """Size of the product before constraints."""
        return math.prod(len(r) for r in self.ranges)

    def allows(self, params: Mapping[str, ParamValue]) -> bool:
        return all(constraint(params) for constraint in self.constraints)

    def grid(self) -> Iterator[dict[str, ParamValue]]:
        """Every allowed set, the last parameter varying fastest."""
        if self.grid_size > MAX_GRID:
            raise ConfigError(
                f"The grid has {self.grid_size:,} sets; narrow the ranges or use "
                "--method random/bayes with --trials."
            )
        for values in itertools.product(*(r.values for r in self.ranges)):
            params = dict(zip(self.names, values, strict=True))
            if self.allows(params):
                yield params

    def sample(self, count: int, seed: int) -> list[dict[str, ParamValue]]:
        """Up to ``count`` distinct allowed sets drawn uniformly at random (reproducible)."""
        rng = random.Random(seed)
        allowed = list(self.grid()) if self.grid_size <= 1_000_000 else None
        if allowed is not None:
            return rng.sample(allowed, min(count, len(allowed)))
        chosen: dict[tuple[ParamValue, ...], dict[str, ParamValue]] = {}
        attempts = 0
        while len(chosen) < count and attempts < count * 100:
            attempts += 1
            params = {r.name: rng.choice(r.values) for r in self.ranges}
            if self.allows(params):
                chosen.setdefault(tuple(params.values()), params)
        return list(chosen.values())
