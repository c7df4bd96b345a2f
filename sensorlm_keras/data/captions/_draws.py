"""Cheap, reproducible random draws for caption phrasing (internal).

All randomness of a caption comes from one ``numpy.random.default_rng(seed)``; uniforms are drawn
in blocks and consumed in a fixed order, which keeps per-call overhead low and makes the caption a
pure function of (data, events, seed).
"""

import numpy as np

_BLOCK = 256


class Draws:
    """Sequential uniform draws from ``numpy.random.default_rng(seed)``.

    Args:
        seed: non-negative integer seed.
    """

    __slots__ = ("_rng", "_u", "_pos")

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)
        self._u = self._rng.random(_BLOCK).tolist()
        self._pos = 0

    def uniform(self):
        if self._pos == len(self._u):
            self._u = self._rng.random(_BLOCK).tolist()
            self._pos = 0
        u = self._u[self._pos]
        self._pos += 1
        return u

    def index(self, n):
        """A uniform integer in ``[0, n)``."""
        return min(int(self.uniform() * n), n - 1)

    def pick(self, bank):
        """A uniform element of a sequence."""
        return bank[self.index(len(bank))]

    def subset(self, n, k):
        """``k`` distinct indices of ``range(n)`` chosen uniformly, in increasing order."""
        if k >= n:
            return list(range(n))
        keys = [self.uniform() for _ in range(n)]
        order = sorted(range(n), key=keys.__getitem__)
        return sorted(order[:k])
