#!/usr/bin/python3
"""Fits the polynomial P of internal/mathx's float32 exact GELU:

    erfc(z) = t * exp(-z^2 + P(t)),  t = 1/(1 + z/2),  z >= 0

P (degree 9, lowest coefficient first) is a least-squares fit of
log(erfc(z)/t) + z^2 on 4001 Chebyshev nodes of t in [1/6, 1] (z in
[0, 10]; beyond, erfc(z) underflows float32), with Python's math.erfc as
the reference. Prints the coefficients and the largest error of log(erfc)
(= relative error of erfc) on a dense grid of z.

    /usr/bin/python3 bench/torch/erfc_fit.py
"""
import math

import numpy as np

DEG = 9
lo = 1 / 6
nodes = np.cos(np.linspace(0, math.pi, 4001)) * (1 - lo) / 2 + (1 + lo) / 2
zn = 2 * (1 / nodes - 1)
yn = np.array([math.log(math.erfc(v)) for v in zn]) - np.log(nodes) + zn * zn
c = np.polynomial.polynomial.polyfit(nodes, yn, DEG)

z = np.linspace(0, 10, 200001)
t = 1 / (1 + z / 2)
y = np.array([math.log(math.erfc(v)) for v in z]) - np.log(t) + z * z
err = np.max(np.abs(np.polynomial.polynomial.polyval(t, c) - y))
print("coefficients:", ", ".join(repr(float(v)) for v in c))
print("max relative error of erfc on z in [0, 10]: %.3g" % err)
