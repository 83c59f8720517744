"""Quantities: Kubernetes' spelling, exact values, rounding and error messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from control.client.quantity import (
    FORMAT_ERROR,
    NUMERIC_ERROR,
    SUFFIX_ERROR,
    bytes_of,
    canonical,
    cpu_millis,
    format_quantity,
    parse_quantity,
)


@pytest.mark.parametrize("text, value", [
    ("0", "0"),
    ("1", "1"),
    ("500m", "0.5"),
    ("0.1", "0.1"),
    ("1.5", "1.5"),
    ("+2", "2"),
    ("-1", "-1"),
    (".5", "0.5"),
    ("5.", "5"),
    ("128Mi", "134217728"),
    ("1Ki", "1024"),
    ("1.5Gi", "1610612736"),
    ("2Ti", str(2 * 2**40)),
    ("1Ei", str(2**60)),
    ("1k", "1000"),
    ("1M", "1000000"),
    ("3G", "3000000000"),
    ("1T", "1e12"),
    ("1P", "1e15"),
    ("1E", "1e18"),
    ("100u", "0.0001"),
    ("7n", "0.000000007"),
    ("1e3", "1000"),
    ("1E3", "1000"),
    ("1e-3", "0.001"),
    ("2e+2", "200"),
    ("12e0", "12"),
])
def test_parse_quantity_values(text: str, value: str) -> None:
    assert parse_quantity(text) == Decimal(value)


def test_precision_below_nano_is_rounded_up_away_from_zero() -> None:
    assert parse_quantity("0.0000000001") == Decimal("1e-9")
    assert parse_quantity("1.0000000001") == Decimal("1.000000001")
    assert parse_quantity("-0.0000000001") == Decimal("-1e-9")


@pytest.mark.parametrize("text, message", [
    ("", FORMAT_ERROR),
    ("abc", FORMAT_ERROR),
    ("1 ", FORMAT_ERROR),
    (" 1", FORMAT_ERROR),
    ("1.2.3", FORMAT_ERROR),
    ("1Mi1x", FORMAT_ERROR),
    ("--1", FORMAT_ERROR),
    ("Mi", FORMAT_ERROR),
    ("+", FORMAT_ERROR),
    (".", NUMERIC_ERROR),
    ("1K", SUFFIX_ERROR),
    ("1mi", SUFFIX_ERROR),
    ("1e", SUFFIX_ERROR),
    ("1Gib", FORMAT_ERROR),
    ("1kk", SUFFIX_ERROR),
])
def test_malformed_quantities_are_rejected_with_kubernetes_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_quantity(text)
    assert str(e.value) == message


def test_magnitudes_are_capped_like_kubernetes() -> None:
    assert parse_quantity("1e100000") == 2**63 - 1
    assert parse_quantity("9" * 200) == 2**63 - 1
    assert parse_quantity("-1e30") == -(2**63 - 1)
    assert parse_quantity("1e-100000") == Decimal("1e-9")
    assert parse_quantity("123456789012345678.0000000001") == Decimal("123456789012345678.000000001")
    with pytest.raises(ValueError, match="suffix"):
        parse_quantity("1e99999999999")  # the exponent must fit in 32 bits


def test_non_string_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_quantity(1)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, millis", [
    ("500m", 500), ("1", 1000), ("1.5", 1500), ("0.1", 100), ("250m", 250), ("1e3", 1_000_000),
    ("0.0005", 1), ("1n", 1), ("0", 0), ("2k", 2_000_000),
])
def test_cpu_millis_rounds_up(text: str, millis: int) -> None:
    assert cpu_millis(text) == millis


@pytest.mark.parametrize("text, count", [
    ("128Mi", 134217728), ("1Gi", 1073741824), ("1.5Gi", 1610612736), ("64M", 64_000_000),
    ("1k", 1000), ("500m", 1), ("1e3", 1000), ("0", 0), ("1", 1),
])
def test_bytes_of_rounds_up(text: str, count: int) -> None:
    assert bytes_of(text) == count


@pytest.mark.parametrize("text, canonical_text", [
    ("1000m", "1"), ("0.5", "500m"), ("1500m", "1500m"), ("2000", "2k"), ("1.5Gi", "1536Mi"),
    ("1024Mi", "1Gi"), ("1e3", "1e3"), ("0.1", "100m"), ("128Mi", "128Mi"), ("1500", "1500"),
    ("0", "0"), ("512", "512"),
])
def test_canonical_spelling(text: str, canonical_text: str) -> None:
    assert canonical(text) == canonical_text


def test_format_quantity_binary_falls_back_to_decimal_for_fractions() -> None:
    assert format_quantity(Decimal("0.5"), "BinarySI") == "500m"
    assert format_quantity(Decimal(1536), "BinarySI") == "1536"  # below 1Ki, or not a whole multiple
    assert format_quantity(Decimal(2048), "BinarySI") == "2Ki"
    assert format_quantity(Decimal(-1000), "DecimalSI") == "-1k"


# --- properties -----------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_nano_values = st.integers(min_value=-(10**21), max_value=10**21).map(lambda n: Decimal(n).scaleb(-9))


@settings(max_examples=200, deadline=None)
@given(_nano_values, st.sampled_from(["DecimalSI", "BinarySI", "DecimalExponent"]))
def test_formatted_quantities_parse_back_to_the_same_value(value: Decimal, fmt: str) -> None:
    assert parse_quantity(format_quantity(value, fmt)) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["m", "", "k", "Ki", "Mi", "Gi", "e3", "e-3"]))
def test_integer_views_are_ceilings(number: int, suffix: str) -> None:
    text = f"{number}{suffix}"
    value = parse_quantity(text)
    assert cpu_millis(text) >= value * 1000 > cpu_millis(text) - 1
    assert bytes_of(text) >= value > bytes_of(text) - 1
