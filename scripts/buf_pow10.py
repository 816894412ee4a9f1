#!/usr/bin/env python3
"""Prints the table of 10^e approximations that src/buf.c's shortest-digits formatter uses.

For each e in [E_MIN, E_MAX], g(e) is 10^e scaled by 2^(127 - r), r = floor(log2(10^e)), so
that 2^127 <= g < 2^128: exact when that product is an integer (0 <= e <= 55), else rounded
up (floor + 1), the one-sided error the formatter's proof of exactness assumes. The script
also checks the integer logarithm formulas buf.c uses over the whole range it needs them.
Usage: scripts/buf_pow10.py prints the rows of pow10_g in src/buf.c (between its clang-format
markers); the table there was pasted from this output.
"""

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

for e in range(E_MIN, E_MAX + 1):
    r = floor_log2_pow10(e)
    s = 127 - r
    if e >= 0:
        num, den = 10**e * 2 ** max(s, 0), 2 ** max(-s, 0)
    else:
        num, den = 2**s, 10**-e
    g = num // den + (num % den != 0)
    assert 2**127 <= g < 2**128, e
    print(f"    {{0x{g >> 64:016x}, 0x{g & (2**64 - 1):016x}}},")
