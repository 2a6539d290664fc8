"""Intervals for a single proportion, shared by the summary and the correction.

Its own module so that `summary.py` (rates, paired tests) and `correction.py`
(rates corrected for the flags' errors) use one Wilson interval without
importing each other.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials; (0, 1) when n is 0.

    Unlike the normal approximation it stays inside [0, 1] and behaves at 0/n
    and n/n, which refusal rates (and a good flag's precision) often are.
    Wilson EB (1927), JASA 22:209–212; Brown, Cai & DasGupta (2001),
    Statistical Science 16:101–133, for its coverage."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
