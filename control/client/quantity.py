"""Kubernetes resource quantities: "500m", "128Mi", "1.5", "1e3".

A quantity is a decimal number with an optional suffix: a binary one
(Ki, Mi, Gi, Ti, Pi, Ei), a decimal SI one (n, u, m, k, M, G, T, P, E) or a
decimal exponent (e3, E-2). As in Kubernetes, values are kept exactly, finer
precision than nano units is rounded up (away from zero), and integer views
(`cpu_millis`, `bytes_of`) round up.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
NUMERIC_ERROR = "unable to parse numeric part of quantity"
SUFFIX_ERROR = "unable to parse quantity's suffix"

BINARY_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}
_SUFFIX_CHARS = set("eEinumkKMGTP")
_NANO = Decimal("1e-9")
MAX_VALUE = Decimal(2**63 - 1)
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+")

# Exact for every parsed value (at most 19 integer and 9 fractional digits).
_CONTEXT = decimal.Context(prec=100, Emax=10_000, Emin=-10_000)


def _split(text: str) -> tuple[str, str]:
    """Splits into (signed number, suffix) the way Kubernetes' parser scans."""
    pos = 1 if text[:1] in ("+", "-") else 0
    while pos < len(text) and text[pos].isdigit():
        pos += 1
    if pos < len(text) and text[pos] == ".":
        pos += 1
        while pos < len(text) and text[pos].isdigit():
            pos += 1
    number = text[:pos]
    rest = pos
    while rest < len(text) and text[rest] in _SUFFIX_CHARS:
        rest += 1
    if rest < len(text) and text[rest] in "+-":
        rest += 1
    while rest < len(text) and text[rest].isdigit():
        rest += 1
    if rest != len(text):
        raise ValueError(FORMAT_ERROR)
    return number, text[pos:]


def _scale(number: Decimal, suffix: str, ctx: decimal.Context) -> Decimal:
    if suffix in BINARY_SUFFIXES:
        return ctx.multiply(number, 1 << BINARY_SUFFIXES[suffix])
    if suffix in DECIMAL_SUFFIXES:
        return number.scaleb(DECIMAL_SUFFIXES[suffix], ctx)
    if _EXPONENT.fullmatch(suffix) and abs(int(suffix[1:])) < 2**31:
        return number.scaleb(int(suffix[1:]), ctx)
    raise ValueError(SUFFIX_ERROR)


def parse_quantity(text: str) -> Decimal:
    """The exact value of a quantity string; ValueError with Kubernetes' message if malformed.

    As in Kubernetes, magnitudes are capped at 2^63-1.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(FORMAT_ERROR)
    number, suffix = _split(text)
    digits = number.lstrip("+-").replace(".", "")
    if not digits:
        raise ValueError(NUMERIC_ERROR if "." in number else FORMAT_ERROR)
    # Enough precision for the digits given and a binary multiplier: the arithmetic stays exact.
    ctx = decimal.Context(prec=len(digits) + 40, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    value = _scale(Decimal(number), suffix, ctx)
    if abs(value) > MAX_VALUE:
        return MAX_VALUE.copy_sign(value)
    if value.as_tuple().exponent < -9:  # type: ignore[operator]
        value = value.quantize(_NANO, rounding=decimal.ROUND_UP, context=ctx)
    return value


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=decimal.ROUND_CEILING))


def cpu_millis(text: str) -> int:
    """CPU in millicores, rounded up: "500m" -> 500, "1.5" -> 1500."""
    return _ceil(_CONTEXT.multiply(parse_quantity(text), 1000))


def bytes_of(text: str) -> int:
    """A byte count, rounded up: "128Mi" -> 134217728, "1k" -> 1000."""
    return _ceil(parse_quantity(text))


def quantity_format(text: str) -> str:
    """The format family Kubernetes keeps for a quantity: BinarySI, DecimalSI or DecimalExponent."""
    _, suffix = _split(text)
    if suffix in BINARY_SUFFIXES:
        return "BinarySI"
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return "DecimalExponent"
    return "DecimalSI"


def _is_integer(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _format_decimal(value: Decimal, exponent_style: bool) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "0"
    best = -9
    for exp in range(-9, 19, 3):
        if _is_integer(_CONTEXT.scaleb(value, -exp)):
            best = exp
    mantissa = int(_CONTEXT.scaleb(value, -best))
    if exponent_style:
        suffix = f"e{best}" if best else ""
    else:
        suffix = {v: k for k, v in DECIMAL_SUFFIXES.items()}[best]
    return f"{sign}{mantissa}{suffix}"


def _format_binary(value: Decimal) -> str | None:
    if value < 1024 or not _is_integer(value):
        return None
    number, best = int(value), ""
    for suffix, bits in BINARY_SUFFIXES.items():
        if int(value) % (1 << bits) == 0:
            number, best = int(value) >> bits, suffix
    return f"{number}{best}"


def format_quantity(value: Decimal, fmt: str = "DecimalSI") -> str:
    """Kubernetes' canonical spelling: 0.5 -> "500m", 1610612736 (BinarySI) -> "1536Mi"."""
    if fmt == "BinarySI" and value >= 0:
        text = _format_binary(value)
        if text is not None:
            return text
    return _format_decimal(value, fmt == "DecimalExponent")


def canonical(text: str) -> str:
    """A quantity string re-spelled canonically ("1000m" -> "1", "1.5Gi" -> "1536Mi")."""
    return format_quantity(parse_quantity(text), quantity_format(text))
