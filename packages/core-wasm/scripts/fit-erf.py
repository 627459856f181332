#!/usr/bin/python3
# Fits the coefficients of erf4/erf1 in assembly/approx.ts and checks the f32 algorithm against mpmath.
#   |x| <  0.921875: erf(x) = x + x P(x^2),       P of degree 5 ~ erf(sqrt(t)) / sqrt(t) - 1 on t in [0, 0.921875^2]
#   |x| >= 0.921875: erf(x) = 1 - exp(Q(|x|)),    Q of degree 6 ~ log(erfc(x)) on [0.921875, 4], error weighted by
#                    erfc(x) (what an error in Q costs erf)
# Each fit is weighted least squares on Chebyshev nodes refined toward minimax by Lawson's iteration, then rounded to
# f32; the check evaluates erf in f32 arithmetic step by step as erf1 does (no fused multiply-add: the plain-SIMD
# binary). Run (Debian: python3-numpy python3-mpmath):  /usr/bin/python3 scripts/fit-erf.py   (deterministic)
import mpmath as mp
import numpy as np

mp.mp.dps = 40
f = np.float32
SMALL, CLAMP = 0.921875, 4.0


def cheb(a, b, n):
    k = np.arange(n)
    return np.sort((a + b) / 2 + (b - a) / 2 * np.cos((2 * k + 1) * np.pi / (2 * n)))


def lawson(x, y, w, degree, iterations=200):
    """Coefficients (increasing powers) minimising max |w (p(x) - y)|, approximately."""
    V = np.vander(x, degree + 1, increasing=True)
    u = np.ones_like(x)
    for _ in range(iterations):
        s = w * np.sqrt(u)
        c = np.linalg.lstsq(V * s[:, None], y * s, rcond=None)[0]
        err = np.abs((V @ c - y) * w)
        u = u * err
        u /= u.sum()
    return c, np.max(np.abs((V @ c - y) * w))


t = cheb(0, SMALL * SMALL, 3000)
g = np.array([float(mp.erf(mp.sqrt(mp.mpf(v))) / mp.sqrt(mp.mpf(v)) - 1) for v in t])
A, errA = lawson(t, g, np.ones_like(t), 5)
x = cheb(SMALL, CLAMP, 3000)
q = np.array([float(mp.log(mp.erfc(mp.mpf(v)))) for v in x])
B, errB = lawson(x, q, np.array([float(mp.erfc(mp.mpf(v))) for v in x]), 6)
A32, B32 = A.astype(f), B.astype(f)

# exp in f32 as exp1 does (assembly/approx.ts): Cody-Waite reduction, Cephes polynomial, two-step scaling
EXP_P = [f(1.9875691500e-4), f(1.3981999507e-3), f(8.3334519073e-3), f(4.1665795894e-2), f(1.6666665459e-1), f(5.0000001201e-1)]


def exp32(v):
    v = np.where(v < f(-104), f(-104), np.where(f(89) < v, f(89), v)).astype(f)
    tt = (v * f(1.44269504088896341) + f(12582912.0)).astype(f)
    nf = (tt - f(12582912.0)).astype(f)
    n = tt.view(np.int32) - np.int32(0x4b400000)
    r = (nf * f(-0.693359375) + v).astype(f)
    r = (nf * f(2.12194440e-4) + r).astype(f)
    p = EXP_P[0]
    for c in EXP_P[1:]:
        p = (p * r + c).astype(f)
    y = (f(1) + (p * (r * r) + r).astype(f)).astype(f)
    n1 = n >> 1
    pow2 = lambda k: ((k + 127) << 23).astype(np.int32).view(f)
    return ((y * pow2(n1)).astype(f) * pow2(n - n1)).astype(f)


def horner(c, v):
    p = c[-1]
    for k in range(len(c) - 2, -1, -1):
        p = (p * v + c[k]).astype(f)
    return p


def erf32(v):
    a = np.minimum(np.abs(v), f(CLAMP)).astype(f)
    small = (a * horner(A32, (a * a).astype(f)) + a).astype(f)
    big = (f(1) - exp32(horner(B32, a))).astype(f)
    return np.copysign(np.where(a < f(SMALL), small, big), v).astype(f)


xs = np.concatenate([np.linspace(-5, 5, 200001).astype(f), np.logspace(-38, 0, 4000).astype(f)])
truth = np.array([float(mp.erf(mp.mpf(float(v)))) for v in xs])
got = erf32(xs).astype(np.float64)
ulps = np.abs(got - truth) / np.spacing(np.abs(truth.astype(f))).astype(np.float64)
print(f'fit: |P error| {errA:.2e} (relative to erf(x)/x), |erfc-weighted Q error| {errB:.2e}')
print(f'f32 erf: max |error| {np.abs(got - truth).max():.2e}, max {ulps.max():.2f} ulp at x = {xs[np.argmax(ulps)]}')
for name, cs in (('ERF_A', A32), ('ERF_B', B32)):
    for i, c in enumerate(cs):
        print(f'const {name}{i} = memory.data<f32>([{float(c)!r}]);')
