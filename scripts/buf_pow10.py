#!/usr/bin/env python3
"""Prints the table of 10^e approximations that src/buf.c's shortest-digits formatter uses.

For each e in [E_MIN, E_MAX], g(e) is 10^e scaled by 2^(127 - r), r = floor(log2(10^e)), so
that 2^127 <= g < 2^128: exact when that product is an integer (0 <= e <= 55), else rounded
up (floor + 1). Before printing, the script checks the integer logarithm formulas buf.c uses
over the whole range it needs them, and proves that buf.c's to_odd is exact for every double
with this table (check_doubles; a second or so).
Usage: scripts/buf_pow10.py prints the rows of pow10_g in src/buf.c (between its clang-format
markers); the table there was pasted from this output.
"""

import math
from fractions import Fraction

# -k for k in [floor(log10(2^-1074)) - 1, floor(log10(2^971))]: doubles (floats need a subset).
E_MIN, E_MAX = -292, 325


def floor_log2_pow10(e):
    """floor(log2(10^e)), exactly."""
    if e >= 0:
        return (10**e).bit_length() - 1
    return -((10 ** -e).bit_length())  # 10^-e is no power of two, so ceil(log2) = bit length


def floor_log10_pow2(q):
    """floor(log10(2^q)), exactly."""
    if q >= 0:
        return len(str(2**q)) - 1
    return len(str(5**-q)) - 1 + q  # 2^q = 5^-q / 10^-q


def floor_log10_three_quarters_pow2(q):
    """floor(log10(3 * 2^(q-2))), exactly."""
    if q >= 2:
        return len(str(3 * 2 ** (q - 2))) - 1
    return len(str(3 * 5 ** (2 - q))) - 1 - (2 - q)


for q in range(-1074 - 100, 971 + 100):
    assert floor_log10_pow2(q) == (q * 315653) >> 20, q
    assert floor_log10_three_quarters_pow2(q) == (q * 315653 - 131237) >> 20, q
for e in range(E_MIN - 10, E_MAX + 10):
    assert floor_log2_pow10(e) == (e * 1741647) >> 19, e


def g_of(e):
    """g(e) and the exact value it stands for, 10^e * 2^(127 - r) (a Fraction)."""
    r = floor_log2_pow10(e)
    exact = Fraction(10) ** e * Fraction(2) ** (127 - r)
    g = exact.numerator // exact.denominator + (exact.denominator != 1)
    assert 2**127 <= g < 2**128, e
    return g, exact


def first_in(a, m, lo, hi):
    """The smallest t >= 0 with lo <= a*t mod m <= hi (0 <= lo <= hi < m), or None."""
    a %= m
    if lo == 0:
        return 0
    if a == 0:
        return None
    t = -(-lo // a)
    if a * t <= hi:
        return t
    # a*t = m*u + v with v in [lo, hi] needs m*u mod a in [-hi mod a, -lo mod a] (no multiple
    # of a lies in [lo, hi], so that range does not wrap).
    u = first_in(m % a, a, (-hi) % a, (-lo) % a)
    return None if u is None else -(-(lo + m * u) // a)


def no_fraction_within(alpha, x_lo, x_hi, err):
    """No x in [x_lo, x_hi] puts x*alpha within err below an integer it does not equal."""
    p, q = alpha.numerator, alpha.denominator
    bound = math.floor(err * q)  # units of 1/q that the error may cross
    if bound == 0:
        return True
    a = (-p) % q  # ceil(y) - y = (a*x mod q) / q
    b = a * x_lo % q
    lo, hi = (1 - b) % q, (bound - b) % q
    ranges = [(lo, hi)] if lo <= hi else [(lo, q - 1), (0, hi)]
    for r_lo, r_hi in ranges:
        t = first_in(a, q, r_lo, r_hi)
        if t is not None and t <= x_hi - x_lo:
            return False
    return True


def to_odd(x, q, k):
    """buf.c's to_odd, in Python integers."""
    g, _ = g_of(-k)
    prod = (x << (q + floor_log2_pow10(-k) + 1)) * g
    fraction = prod % 2**128 != 0
    if fraction and 0 < k < 25 and x % 5**k == 0:
        fraction = False
    return (prod >> 128) | fraction


def exact_odd(x, q, k):
    y = x * Fraction(2) ** q / Fraction(10) ** k
    return math.floor(y) | (y.denominator != 1)


def check_doubles():
    """
    Proves to_odd exact for every double: for each exponent q and its k, a rounded-up g adds
    less than the distance from y = x * 2^q / 10^k to the next integer, for every x buf.c can
    pass (searched with Euclid's algorithm, not one by one), and the few special x are checked
    directly. Floats need no search (see buf.c).
    """
    q_min, c_min = -1074, 2**52
    for q in range(q_min, 972):
        k = floor_log10_pow2(q)
        g, exact = g_of(-k)
        h = q + floor_log2_pow10(-k)
        x_lo = 2 if q == q_min else 4 * c_min - 2  # subnormals share the smallest q
        x_hi = 8 * c_min + 2
        err = Fraction(x_hi << (h + 1)) * (g - exact) / 2**128
        assert no_fraction_within(Fraction(2) ** q / Fraction(10) ** k, x_lo, x_hi, err), q
        if q > q_min:  # the first value of a binade: its interval is asymmetric
            k = floor_log10_three_quarters_pow2(q)
            for x in (4 * c_min - 1, 4 * c_min, 4 * c_min + 2):
                assert to_odd(x, q, k) == exact_odd(x, q, k), q
    for c in (1, 2):  # tiny subnormals, a tenth of 10^k
        k = floor_log10_pow2(q_min) - 1
        for x in (4 * c - 2, 4 * c, 4 * c + 2):
            assert to_odd(x, q_min, k) == exact_odd(x, q_min, k), c


check_doubles()

for e in range(E_MIN, E_MAX + 1):
    g, _ = g_of(e)
    print(f"    {{0x{g >> 64:016x}, 0x{g & (2**64 - 1):016x}}},")
