"""Measured numbers printed the way every machine agrees on them.

A model trained on one processor differs in its last bits from the same recipe trained on
another (AVX-512 vs AVX2 kernels, native vs emulated bf16), so a stored output such as
``macro-F1 0.9163`` is true on one machine only. What holds everywhere is a *claim*: the
value lies in a stated range. This module prints both, the value for the learner and the
claim for the test::

    >>> from coursekit import report
    >>> print(f"test macro-F1 {report.within(0.9163, 0.89, 0.94)}")
    test macro-F1 0.916 (expected 0.890–0.940 ✓)
    >>> print(report.at_least(0.947, 0.90, fmt=".2f"))
    0.95 (≥ 0.90 ✓)
    >>> print(report.close(1.0000004, 1.0))
    identical (difference < 1e-05 ✓)

The course's nbval sanitizer (``notebooks/sanitize.cfg``, section ``claimed-value``)
replaces the number in front of a *passing* claim with ``<claimed>``, so nbval compares the claim
(range and ✓) and a machine that lands elsewhere in the range still passes. A value
outside its range prints ``✗`` with the fix, which nbval (and a reader) sees as a failure:
a real regression still fails. :func:`takeaway` prints a sentence rendered from computed
values as Markdown, so the prose a learner reads is the output nbval checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Claim", "Takeaway", "at_least", "at_most", "close", "takeaway", "within"]

FIX = "re-run from the top; if it persists, delete .cache/coursekit/ and run `coursekit prepare`"


@dataclass(frozen=True)
class Claim:
    """A measured ``value`` and the range it is claimed to lie in (``lo``/``hi`` may be None)."""

    value: float
    lo: float | None
    hi: float | None
    fmt: str = ".3f"

    @property
    def ok(self) -> bool:
        """Whether the value lies in the stated range (NaN never does)."""
        if isinstance(self.value, float) and math.isnan(self.value):
            return False
        return (self.lo is None or self.value >= self.lo) and (
            self.hi is None or self.value <= self.hi
        )

    def _show(self, x: float) -> str:
        if self.fmt.endswith("d"):  # counts: "1,234" with fmt ",d"
            return format(round(x), self.fmt)
        return format(x, self.fmt)

    def _range(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"expected {self._show(self.lo)}–{self._show(self.hi)}"
        if self.lo is not None:
            return f"≥ {self._show(self.lo)}"
        return f"≤ {self._show(self.hi)}"

    def __str__(self) -> str:
        mark = "✓" if self.ok else f"✗ outside the stated range: {FIX}"
        return f"{self._show(self.value)} ({self._range()} {mark})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __bool__(self) -> bool:
        return self.ok


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}") from None
    return number


def within(value: Any, lo: float, hi: float, fmt: str = ".3f") -> Claim:
    """Claim ``lo <= value <= hi``; printed as ``0.916 (expected 0.890–0.940 ✓)``."""
    lo, hi = _number(lo, "lo"), _number(hi, "hi")
    if lo > hi:
        raise ValueError(f"within(): lo={lo} is above hi={hi}; swap them")
    return Claim(_number(value, "value"), lo, hi, fmt)


def at_least(value: Any, threshold: float, fmt: str = ".3f") -> Claim:
    """Claim ``value >= threshold``; printed as ``0.947 (≥ 0.900 ✓)``."""
    return Claim(_number(value, "value"), _number(threshold, "threshold"), None, fmt)


def at_most(value: Any, threshold: float, fmt: str = ".3f") -> Claim:
    """Claim ``value <= threshold``; printed as ``0.031 (≤ 0.050 ✓)``."""
    return Claim(_number(value, "value"), None, _number(threshold, "threshold"), fmt)


@dataclass(frozen=True)
class _Close:
    difference: float
    tol: float

    def __str__(self) -> str:
        if self.difference < self.tol:
            return f"identical (difference < {self.tol:.0e} ✓)"
        return f"different: difference {self.difference:.2e} ≥ {self.tol:.0e} ✗"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __bool__(self) -> bool:
        return self.difference < self.tol


def close(a: Any, b: Any, tol: float = 1e-5) -> _Close:
    """Say whether ``a`` and ``b`` (numbers or arrays/tensors) agree to ``tol`` (max abs diff).

    Prints what float-rounding noise *means* (``identical (difference < 1e-05 ✓)``) instead of
    the noise itself (``8.8e-07``), which differs from one processor to the next.
    """
    import numpy as np

    def as_array(x: Any) -> np.ndarray:
        if hasattr(x, "detach"):
            x = x.detach().float().cpu().numpy()
        return np.asarray(x, dtype=np.float64)

    xa, xb = as_array(a), as_array(b)
    if xa.shape != xb.shape:
        raise ValueError(f"close(): shapes differ, {xa.shape} vs {xb.shape}")
    diff = float(np.max(np.abs(xa - xb))) if xa.size else 0.0
    return _Close(diff, float(tol))


class Takeaway:
    """A sentence rendered from computed values, shown as Markdown (plain text elsewhere)."""

    def __init__(self, text: str) -> None:
        self.text = str(text)

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def takeaway(text: str) -> Takeaway:
    """Display ``text`` (an f-string of computed values) as Markdown; nbval checks its words.

    Quote measured numbers through :func:`within`/:func:`at_least` or rounded to what is
    stable across machines, so the sentence holds wherever the notebook runs.
    """
    return Takeaway(text)
