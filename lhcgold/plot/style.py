"""HEP style: mplhep's style sheets, a "Simulation" label, axis labels with units, tidy ticks.

* :func:`hep_style` — a context manager with an mplhep style sheet (default "ROOT", experiment-neutral);
* :func:`hep_label` — "lhcgold Simulation" on the left, √s and the luminosity on the right;
* :func:`axis_label` — "symbol (meaning) [unit]" for a parameter or an observable, from the
  ``labels``/``units`` mappings every plot function takes, else from the registered processes'
  labels (:func:`registry_labels`) or :data:`KNOWN_LABELS`, and :func:`default_unit`;
* :func:`tidy_ticks` — at most a handful of linear ticks per axis (no overlapping tick labels).

Example::

    from lhcgold import plot
    with plot.hep_style():
        fig, ax = plt.subplots(layout="constrained")
        plot.plot_fisher_ellipses(infos, ax=ax, labels={"gc": r"$g_c$"})
        plot.hep_label(ax, sqrt_s_tev=13, luminosity_ifb=300)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ..exceptions import ConfigError
from ..processes import get_process_class, process_names
from ._mpl import axes, mplhep, pyplot

__all__ = [
    "KNOWN_LABELS",
    "KNOWN_UNITS",
    "axis_label",
    "default_unit",
    "finish_axes",
    "hep_label",
    "hep_style",
    "place_legend",
    "registry_labels",
    "tidy_ticks",
]

#: Symbols (and meanings) of parameters and observables that no registered process labels (the
#: W γ example's Wilson coefficients, observables of the shipped cards); the processes' own
#: parameters and observables are labelled by their ``ProcessDefaults.labels`` (:func:`registry_labels`).
KNOWN_LABELS: dict[str, str] = {
    "cwww": r"$c_{WWW}/\Lambda^2$",
    "cw": r"$c_{W}/\Lambda^2$",
    "pt_a": r"$p_T^{\gamma}$",
    "eta_l": r"$\eta^{\ell}$",
    "eta_h": r"$\eta^{H}$",
    "m_h": r"$m_{jj}$",
    "m_wh": r"$m_{WH}$",
    "mt_w": r"$m_T^{W}$",
    "met": r"$E_T^{miss}$",
    "et_miss": r"$E_T^{miss}$",
    "sin_phi_star": r"$\sin\phi^*$",
    "cos_phi_star": r"$\cos\phi^*$",
}

#: Units of parameters that have one (the dimension-6 Wilson coefficients of the W γ example: c/Λ²).
KNOWN_UNITS: dict[str, str] = {"cwww": "TeV$^{-2}$", "cw": "TeV$^{-2}$"}

_GEV_PREFIXES = ("pt_", "m_", "mt_", "e_", "ht", "met", "et_miss", "px_", "py_", "pz_", "l_p", "h_p")


def default_unit(name: str) -> str | None:
    """The unit of a parameter in :data:`KNOWN_UNITS`, else of an observable guessed from its name.

    GeV for momenta, masses and energies, rad for azimuthal angles; None for dimensionless ones
    (cosines, rapidities, η, charges) and unknown names.
    """
    if name in KNOWN_UNITS:
        return KNOWN_UNITS[name]
    n = name.lower()
    if n.startswith(("cos", "sin", "eta", "y_", "charge", "n_", "delta_r", "dr_")):
        return None
    if n.startswith(_GEV_PREFIXES) or n in ("mjj", "mll"):
        return "GeV"
    if "phi" in n:
        return "rad"
    return None


def registry_labels() -> dict[str, str]:
    """Axis labels of the registered processes' parameters and observables (their
    ``ProcessDefaults.labels``), name → text. A name two processes label differently takes the label
    of the first process in :func:`~lhcgold.processes.process_names` order (``a3`` is WH's
    "CP-odd HWW", not ZH's "CP-odd HZZ"); pass ``labels`` to :func:`axis_label` for another one.
    """
    out: dict[str, str] = {}
    for process in process_names():
        for key, text in get_process_class(process).defaults.labels.items():
            out.setdefault(key, text)
    return out


def axis_label(
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
) -> str:
    """``"<label> [<unit>]"`` for a parameter or observable ``name``.

    The label is ``labels[name]``, else the registered processes' (:func:`registry_labels`), else
    :data:`KNOWN_LABELS`, else the name itself; the unit is ``units[name]`` (None or "" for none),
    else :func:`default_unit`.
    """
    text = (labels or {}).get(name) or registry_labels().get(name) or KNOWN_LABELS.get(name) or name
    unit = (units or {})[name] if units is not None and name in units else default_unit(name)
    return f"{text} [{unit}]" if unit else text


def _text_width_px(text: str, font: Any, dpi: float) -> float:
    return _text_width_pt(text.replace("$", ""), font.copy() if font is not None else None) * dpi / 72.0


@lru_cache(maxsize=4096)
def _text_width_pt(text: str, font: Any) -> float:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    w, _, _ = text_to_path.get_text_width_height_descent(text, font if font is not None else FontProperties(), False)
    return float(w)


def _fitting_locator(max_bins: int) -> Any:
    """A MaxNLocator (1-2-2.5-5 steps) that drops ticks until their labels fit the axis length."""
    from matplotlib.ticker import MaxNLocator

    class FittingLocator(MaxNLocator):  # type: ignore[misc]
        def __call__(self) -> Any:
            vmin, vmax = self.axis.get_view_interval()
            ax = self.axis.axes
            horizontal = self.axis is ax.xaxis
            length = ax.bbox.width if horizontal else ax.bbox.height
            ticks = self.axis.get_major_ticks(numticks=1)
            font = ticks[0].label1.get_fontproperties() if ticks else None
            fontsize = font.get_size_in_points() if font is not None else 10.0
            dpi = ax.figure.dpi
            fmt = self.axis.get_major_formatter()
            locs = []
            for n in range(max_bins, 0, -1):
                self.set_params(nbins=n)
                locs = self.tick_values(vmin, vmax)
                inside = [v for v in locs if min(vmin, vmax) <= v <= max(vmin, vmax)]
                if horizontal:
                    texts = fmt.format_ticks(inside) if inside else []
                    need = sum(_text_width_px(t, font, dpi) for t in texts) + len(texts) * fontsize * dpi / 72.0
                else:
                    need = len(inside) * 1.6 * fontsize * dpi / 72.0
                if need <= 0.9 * length:
                    break
            return self.raise_if_exceeds(locs)

    return FittingLocator(nbins=max_bins, steps=[1, 2, 2.5, 5, 10], min_n_ticks=1)


def place_legend(ax: Any, legend: bool | str, handles: Sequence[Any] | None = None) -> Any:
    """The axes' legend: none (``False``), inside where it covers least (``True``), or ``"outside"``,
    to the right of the axes, for plots whose lines fill the whole frame (contours, ellipses)."""
    if not legend:
        return None
    kw: dict[str, Any] = {"frameon": False}
    if handles is not None:
        kw["handles"] = list(handles)
    if legend == "outside":
        kw.update(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax.legend(**kw)


def tidy_ticks(ax: Any, *, nbins: int = 6) -> None:
    """At most ``nbins`` (+1) ticks per linear axis, on 1-2-2.5-5 steps, and fewer whenever their labels
    would not fit side by side along the axis, so tick labels never overlap (log axes are left alone)."""
    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "linear":
            axis.set_major_locator(_fitting_locator(nbins))


@contextmanager
def hep_style(name: str = "ROOT") -> Iterator[None]:
    """Draw inside with an mplhep style sheet (``"ROOT"``, ``"ATLAS"``, ``"CMS"``, ``"LHCb2"``, ``"ALICE"``)."""
    hep = mplhep()
    sheet = getattr(hep.style, name, None)
    if sheet is None:
        known = ", ".join(s for s in ("ROOT", "ATLAS", "CMS", "LHCb2", "ALICE") if hasattr(hep.style, s))
        raise ConfigError(f"unknown mplhep style {name!r}; known: {known}")
    with pyplot().style.context(sheet):
        yield


def hep_label(
    ax: Any = None,
    *,
    text: str = "Simulation",
    experiment: str = "lhcgold",
    sqrt_s_tev: float | None = None,
    luminosity_ifb: float | None = None,
    loc: int = 0,
    **kwargs: Any,
) -> Any:
    """The experiment-style label: ``experiment`` in bold and ``text`` on the left; the integrated
    luminosity and √s, when known, on the right as "300 fb⁻¹ (13 TeV)" (mplhep's ``label.exp_label``).

    Returns:
        mplhep's tuple of Text artists.
    """

    ax = axes(ax)
    lumi = f"{luminosity_ifb:g} fb$^{{-1}}$" if luminosity_ifb is not None else ""
    com = f"({sqrt_s_tev:g} TeV)" if sqrt_s_tev is not None else ""
    rlabel = " ".join(part for part in (lumi, com) if part)
    return mplhep().label.exp_label(exp=experiment, llabel=text, rlabel=rlabel, loc=loc, ax=ax, **kwargs)


def finish_axes(
    ax: Any,
    *,
    label: bool | Mapping[str, Any] = False,
    luminosity_ifb: float | None = None,
    nbins: int = 6,
) -> Any:
    """Tidy the ticks and, if ``label`` (True or :func:`hep_label` keywords), add the HEP label.

    Returns:
        The label's artists, or None.
    """
    tidy_ticks(ax, nbins=nbins)
    if not label:
        return None
    kw = dict(label) if isinstance(label, Mapping) else {}
    if luminosity_ifb is not None:
        kw.setdefault("luminosity_ifb", luminosity_ifb)
    return hep_label(ax, **kw)
