import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtestr.errors import ConfigError
from backtestr.optimize import Constraint, ParamRange, ParamSpace


def test_integer_range_includes_stop() -> None:
    assert ParamRange.parse("fast=5:50:5").values == tuple(range(5, 51, 5))


def test_range_that_does_not_land_on_stop_ends_below_it() -> None:
    assert ParamRange.parse("n=1:10:4").values == (1, 5, 9)


def test_float_range_has_no_accumulated_error() -> None:
    assert ParamRange.parse("x=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)


def test_list_of_values_keeps_types() -> None:
    assert ParamRange.parse("mode=fast,slow").values == ("fast", "slow")
    assert ParamRange.parse("on=true,false").values == (True, False)
    assert ParamRange.parse("k=1,2.5").values == (1, 2.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fast", "write name=start:stop:step"),
        ("fast=", "write name=start:stop:step"),
        ("fast=5:50:0", "step must be positive"),
        ("fast=50:5:5", "below start"),
        ("fast=a:5", "non-number"),
        ("fast=1:2:3:4", "write start:stop:step"),
        ("fast=1,1", "listed twice"),
        ("fast=0:1e9:1", "is the step right"),
    ],
)
def test_bad_range_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ParamRange.parse(text)


def test_grid_respects_constraint_and_order() -> None:
    space = ParamSpace.parse(["fast=1:3", "slow=2:3"], ["fast < slow"])
    assert list(space.grid()) == [
        {"fast": 1, "slow": 2},
        {"fast": 1, "slow": 3},
        {"fast": 2, "slow": 3},
    ]
    assert space.grid_size == 6


def test_constraint_arithmetic_and_boolean_logic() -> None:
    check = Constraint.parse("slow - fast >= 10 and not (fast == 7 or slow % 2)", ["fast", "slow"])
    assert check({"fast": 5, "slow": 20})
    assert not check({"fast": 5, "slow": 21})
    assert not check({"fast": 7, "slow": 30})
    assert not check({"fast": 15, "slow": 20})


def test_constraint_chain_and_division_by_zero() -> None:
    assert Constraint.parse("0 < a < b", ["a", "b"])({"a": 1, "b": 2})
    assert not Constraint.parse("b / a > 1", ["a", "b"])({"a": 0, "b": 2})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fats < slow", "Did you mean 'fast'"),
        ("__import__('os')", "not allowed"),
        ("fast.real < slow", "not allowed"),
        ("fast < 'x'", "only numbers"),
        ("fast <", "Bad --constraint"),
        ("[fast]", "not allowed"),
    ],
)
def test_constraint_refuses_anything_but_arithmetic(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Constraint.parse(text, ["fast", "slow"])


def test_parameter_given_twice_is_an_error() -> None:
    with pytest.raises(ConfigError, match="given twice"):
        ParamSpace.parse(["fast=1:2", "fast=3"])


@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 1000))
def test_random_sample_is_distinct_allowed_and_reproducible(count: int, n: int, seed: int) -> None:
    space = ParamSpace.parse([f"a=1:{n}", "b=1:5"], ["a + b > 3"])
    sample = space.sample(count, seed)
    allowed = list(space.grid())
    assert len(sample) == min(count, len(allowed))
    assert all(s in allowed for s in sample)
    assert len({tuple(s.values()) for s in sample}) == len(sample)
    assert sample == space.sample(count, seed)
