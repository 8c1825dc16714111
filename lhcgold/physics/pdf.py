r"""Parton distribution functions on LHAPDF6 grids: a vectorised log-bicubic interpolator.

:class:`PDFGrid` holds the knots of one LHAPDF6 ``lhagrid1`` member (x, Q and x·f(x, Q) for
each flavour, one or more Q subgrids) and evaluates x·f(x, Q²) for arrays of points with the
LHAPDF "logcubic" scheme: cubic Hermite interpolation in ln x at the four Q knots around Q,
then cubic Hermite interpolation in ln Q² of those four values; derivatives at the knots are
finite differences (central inside, one-sided at the edges), as in LHAPDF's
``LogBicubicInterpolator``. Points outside the grid are clamped to its edge ("nearest"); the
cubic's tiny overshoots below zero near x → 1 are set to zero (LO densities are positive).

The grid is read from a file by :func:`lhcgold.io.pdfgrid.read_lhagrid`; this module does no
I/O. The default grid is NNPDF2.3 QCD+QED LO, α_s(m_Z) = 0.130 (MG5's ``nn23lo1``, Pythia's
default ``PDF:pSet = 13``).

Example:
    >>> import numpy as np
    >>> xs = np.geomspace(1e-3, 1.0, 20); qs = np.array([1.0, 10.0, 100.0, 1000.0])
    >>> vals = np.ones((20, 4, 1)) * (1 - xs)[:, None, None]   # x f(x) = 1 - x for flavour 2
    >>> pdf = PDFGrid(xs, [(qs, vals)], (2,))
    >>> bool(abs(pdf.xfx(2, 0.5, 50.0**2) - 0.5) < 1e-3)
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["PDFGrid"]


def _knot_derivatives(v: NDArray[np.float64], t: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """dv/dt at the knots t along ``axis``: central differences inside, one-sided at the edges."""
    v = np.moveaxis(v, axis, 0)
    d = np.empty_like(v)
    dt = np.diff(t)
    fwd = (v[1:] - v[:-1]) / dt.reshape((-1,) + (1,) * (v.ndim - 1))
    d[0] = fwd[0]
    d[-1] = fwd[-1]
    d[1:-1] = 0.5 * (fwd[1:] + fwd[:-1])
    return np.moveaxis(d, 0, axis)


def _hermite(
    t: NDArray[np.float64],
    v0: NDArray[np.float64],
    v1: NDArray[np.float64],
    d0: NDArray[np.float64],
    d1: NDArray[np.float64],
    h: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Cubic Hermite on the unit interval; t in [0, 1], d are derivatives times the interval length h."""
    t2 = t * t
    t3 = t2 * t
    return (2 * t3 - 3 * t2 + 1) * v0 + (t3 - 2 * t2 + t) * d0 * h + (-2 * t3 + 3 * t2) * v1 + (t3 - t2) * d1 * h


class _Subgrid:
    def __init__(self, logx: NDArray[np.float64], q: NDArray[np.float64], values: NDArray[np.float64]):
        self.logq2 = 2.0 * np.log(np.asarray(q, dtype=np.float64))
        self.q2min = float(np.exp(self.logq2[0]))
        self.q2max = float(np.exp(self.logq2[-1]))
        self.values = np.ascontiguousarray(values, dtype=np.float64)  # (nx, nq, nf)
        self.dlogx = _knot_derivatives(self.values, logx, axis=0)  # d(xf)/d ln x


class PDFGrid:
    """One LHAPDF6 grid member, evaluated with vectorised log-bicubic interpolation.

    Args:
        x: the x knots (ascending), shared by all subgrids.
        subgrids: sequence of ``(q_knots, values)``; ``values`` has shape (n_x, n_q, n_flavours)
            and holds x·f(x, Q); subgrids are ordered in Q and share their boundary knots.
        flavours: the PDG ids of the last axis of ``values`` (0 or 21 is the gluon).
        name: a label (e.g. the set name).
    """

    def __init__(
        self, x: ArrayLike, subgrids: Sequence[tuple[ArrayLike, ArrayLike]], flavours: Sequence[int], *, name: str = ""
    ):
        xs = np.asarray(x, dtype=np.float64)
        if xs.ndim != 1 or xs.size < 4 or np.any(np.diff(xs) <= 0) or xs[0] <= 0:
            raise ValueError("x knots must be >= 4 positive ascending values")
        self.name = name
        self.x = xs
        self.logx = np.log(xs)
        self.xmin = float(xs[0])
        self.xmax = float(xs[-1])
        self.flavours = tuple(int(f) for f in flavours)
        self._column = {}
        for i, f in enumerate(self.flavours):
            self._column[21 if f == 0 else f] = i
        self._subgrids = []
        for q, vals in subgrids:
            q = np.asarray(q, dtype=np.float64)
            vals = np.asarray(vals, dtype=np.float64)
            if vals.shape != (xs.size, q.size, len(self.flavours)):
                raise ValueError(
                    f"subgrid values have shape {vals.shape}, expected {(xs.size, q.size, len(self.flavours))}"
                )
            if q.size < 2:
                raise ValueError("a subgrid needs at least two Q knots")
            self._subgrids.append(_Subgrid(self.logx, q, vals))
        if not self._subgrids:
            raise ValueError("no subgrids")
        self.q2min = self._subgrids[0].q2min
        self.q2max = self._subgrids[-1].q2max

    def columns(self, pids: Sequence[int]) -> list[int]:
        """Grid columns of the PDG ids; a flavour missing from the grid raises KeyError."""
        out = []
        for p in pids:
            key = 21 if p == 0 else int(p)
            if key not in self._column:
                raise KeyError(f"flavour {p} is not in PDF grid {self.name!r}")
            out.append(self._column[key])
        return out

    def xfx(self, pid: int | Sequence[int], x: ArrayLike, q2: ArrayLike) -> NDArray[np.float64]:
        """x·f(x, Q²) for one PDG id (result shaped like ``x``) or several (trailing flavour axis).

        Args:
            pid: PDG id or sequence of ids (21 or 0: gluon; 22: photon when the grid has it).
            x: momentum fractions.
            q2: factorisation scale squared in GeV² (scalar or broadcastable to ``x``).
        """
        single = np.ndim(pid) == 0
        pids = [int(np.asarray(pid))] if single else [int(v) for v in pid]  # type: ignore[union-attr]
        cols = self.columns(pids)
        xa = np.asarray(x, dtype=np.float64)
        shape = xa.shape
        xa = xa.reshape(-1)
        q2a = np.broadcast_to(np.asarray(q2, dtype=np.float64), shape).reshape(-1)
        xq = np.clip(xa, self.xmin, self.xmax)
        if np.ndim(q2) == 0:
            vals, ders = self._fixed_scale_table(float(np.asarray(q2)))
            out = np.maximum(self._eval_x(xq, vals[:, cols], ders[:, cols]), 0.0)
            return out[:, 0].reshape(shape) if single else out.reshape(shape + (len(cols),))
        out = np.zeros((xa.size, len(cols)))
        qq = np.clip(q2a, self.q2min, self.q2max)
        # which subgrid: the first whose upper edge is >= Q²
        edges = np.array([sg.q2max for sg in self._subgrids])
        which = np.minimum(np.searchsorted(edges, qq, side="left"), len(self._subgrids) - 1)
        for k, sg in enumerate(self._subgrids):
            sel = which == k
            if len(self._subgrids) == 1:
                out[:] = self._eval_subgrid(sg, xq, qq, cols)
            elif np.any(sel):
                out[sel] = self._eval_subgrid(sg, xq[sel], qq[sel], cols)
        out = np.maximum(out, 0.0)  # cubic overshoot near x -> 1 can dip below zero; LO PDFs are positive
        if single:
            return out[:, 0].reshape(shape)
        return out.reshape(shape + (len(cols),))

    def _fixed_scale_table(self, q2: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Values and ln-x derivatives at the x knots, interpolated to one Q² (cached).

        Interpolation is linear in the knot values, so interpolating in Q first and in x second
        gives exactly the log-bicubic result.
        """
        cache = self.__dict__.setdefault("_scale_cache", {})
        if q2 in cache:
            return cache[q2]  # type: ignore[no-any-return,unused-ignore]
        nx = self.x.size
        xs = np.repeat(self.x, 1)
        allc = list(range(len(self.flavours)))
        qq = np.full(nx, min(max(q2, self.q2min), self.q2max))
        edges = np.array([sg.q2max for sg in self._subgrids])
        k = min(int(np.searchsorted(edges, qq[0], side="left")), len(self._subgrids) - 1)
        sg = self._subgrids[k]
        vals = self._eval_subgrid(sg, xs, qq, allc)
        # derivative table: interpolate d(xf)/dlnx knot values in Q the same way
        tmp = _Subgrid.__new__(_Subgrid)
        tmp.logq2, tmp.q2min, tmp.q2max = sg.logq2, sg.q2min, sg.q2max
        tmp.values = sg.dlogx
        tmp.dlogx = np.zeros_like(sg.dlogx)
        ders = self._eval_subgrid(tmp, xs, qq, allc)
        if len(cache) > 16:
            cache.clear()
        cache[q2] = (vals, ders)
        return vals, ders

    def _eval_x(
        self, x: NDArray[np.float64], vals: NDArray[np.float64], ders: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        lx = np.log(x)
        ix = np.clip(np.searchsorted(self.logx, lx, side="right") - 1, 0, self.logx.size - 2)
        hx = (self.logx[ix + 1] - self.logx[ix])[:, None]
        tx = (lx[:, None] - self.logx[ix][:, None]) / hx
        return _hermite(tx, vals[ix], vals[ix + 1], ders[ix], ders[ix + 1], hx)

    def _eval_subgrid(
        self, sg: _Subgrid, x: NDArray[np.float64], q2: NDArray[np.float64], cols: list[int]
    ) -> NDArray[np.float64]:
        lx = np.log(x)
        lq = np.log(q2)
        nx = self.logx.size
        nq = sg.logq2.size
        ix = np.clip(np.searchsorted(self.logx, lx, side="right") - 1, 0, nx - 2)
        iq = np.clip(np.searchsorted(sg.logq2, lq, side="right") - 1, 0, nq - 2)
        hx = self.logx[ix + 1] - self.logx[ix]
        tx = ((lx - self.logx[ix]) / hx)[:, None]
        hxc = hx[:, None]
        cols_a = np.asarray(cols)
        vals = sg.values[:, :, cols_a] if len(cols) != sg.values.shape[2] else sg.values
        ders = sg.dlogx[:, :, cols_a] if len(cols) != sg.values.shape[2] else sg.dlogx

        def at_q(j: NDArray[np.intp]) -> NDArray[np.float64]:
            return _hermite(tx, vals[ix, j], vals[ix + 1, j], ders[ix, j], ders[ix + 1, j], hxc)

        # values at the (up to) four Q knots iq-1 .. iq+2
        jm = np.maximum(iq - 1, 0)
        jp = np.minimum(iq + 2, nq - 1)
        f0 = at_q(iq)
        f1 = at_q(iq + 1)
        fm = at_q(jm)
        fp = at_q(jp)
        t = sg.logq2
        h = t[iq + 1] - t[iq]
        d_fwd = (f1 - f0) / h[:, None]
        # derivative at iq
        lower = iq == 0
        hm = np.where(lower, 1.0, t[iq] - t[jm])
        d0 = np.where(lower[:, None], d_fwd, 0.5 * (d_fwd + (f0 - fm) / hm[:, None]))
        upper = iq + 1 == nq - 1
        hp = np.where(upper, 1.0, t[jp] - t[iq + 1])
        d1 = np.where(upper[:, None], d_fwd, 0.5 * (d_fwd + (fp - f1) / hp[:, None]))
        tq = ((np.log(q2) - t[iq]) / h)[:, None]
        return _hermite(tq, f0, f1, d0, d1, h[:, None])
