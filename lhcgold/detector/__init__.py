"""Fast, parametrised detector simulation (Delphes-like), vectorised over whole chunks.

From final-state particles (showered with :mod:`lhcgold.shower`, or LHE partons) to
reconstructed electrons, muons, photons, anti-kt jets (``fastjet``'s awkward interface), b tags
and missing E_T:

* e, mu, gamma candidates within the preset's p_T and |eta| acceptance, isolated (scalar sum of the
  p_T of visible particles with p_T > ``min_pt`` within ``delta_r``, over the candidate's p_T, below
  ``max_relative``), kept with the preset's efficiency(pt, eta), and smeared: electrons and photons
  in energy (Gaussian sigma(E)), muons in p_T (Gaussian sigma(pT)); directions unchanged;
* jets: anti-kt (R from the preset) on the visible particles that are not reconstructed isolated
  electrons or photons, and not muons or neutrinos; energy smeared (sigma(E)); flavour from b (else c)
  hadrons within ``btag.delta_r``; b-tagged with efficiency_b / efficiency_c / efficiency_light;
* missing E_T: minus the vector sum of the visible particles within the calorimeter acceptance,
  corrected for the smearing of the reconstructed objects.

fastjet (GPL-2.0-or-later) is the optional extra ``detector`` (``pip install 'lhcgold[detector]'``);
without it :func:`simulate` raises :class:`~lhcgold.exceptions.MissingDependencyError`.

Presets are YAML data files shipped with the package (``lhcgold/detector/presets/{atlas,cms}.yaml``).
Their formulas are lhcgold expressions of ``pt, eta, phi, energy``. The analysis card's
``detector:`` section selects a preset and overrides any entry::

    detector:
      preset: atlas
      electron: {efficiency: "0.9 * (abs(eta) < 2.47)", isolation: {max_relative: 0.15}}
      jet: {radius: 0.6}

Python API::

    from lhcgold.detector import simulate, load_preset, detector_from_card
    det = load_preset("atlas", overrides={"jet": {"pt_min": 25.0}})
    reco = simulate(showered_chunk, preset=det, rng=1)      # -> lhcgold.observables.RecoEvents
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

import awkward as ak
import numpy as np
import vector
import yaml

from ..config import check_section
from ..config.sections import register_section
from ..exceptions import ConfigError, MissingDependencyError, unknown_name_error
from ..observables.expr import compile_expression
from ..observables.objects import RecoEvents, make_met, make_objects

vector.register_awkward()

logger = logging.getLogger(__name__)

__all__ = ["DETECTOR_SCHEMA", "Detector", "available_presets", "detector_from_card", "load_preset", "simulate"]

_VARS = ("pt", "eta", "phi", "energy")
_FORMULA = {"type": "string", "minLength": 1}
_ISO = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "delta_r": {"type": "number", "exclusiveMinimum": 0},
        "max_relative": {"type": "number", "minimum": 0},
        "min_pt": {"type": "number", "minimum": 0},
    },
}


def _obj_schema(resolution_key: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "pt_min": {"type": "number", "minimum": 0},
            "eta_max": {"type": "number", "exclusiveMinimum": 0},
            "efficiency": _FORMULA,
            resolution_key: _FORMULA,
            "isolation": _ISO,
        },
    }


#: JSON Schema of the card's ``detector:`` section (and of the presets, with ``name``)
DETECTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "preset": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "calorimeter_eta_max": {"type": "number", "exclusiveMinimum": 0},
        "electron": _obj_schema("energy_resolution"),
        "muon": _obj_schema("pt_resolution"),
        "photon": _obj_schema("energy_resolution"),
        "jet": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "algorithm": {"enum": ["antikt", "kt", "cambridge"]},
                "radius": {"type": "number", "exclusiveMinimum": 0},
                "pt_min": {"type": "number", "minimum": 0},
                "eta_max": {"type": "number", "exclusiveMinimum": 0},
                "energy_resolution": _FORMULA,
            },
        },
        "btag": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "delta_r": {"type": "number", "exclusiveMinimum": 0},
                "eta_max": {"type": "number", "exclusiveMinimum": 0},
                "efficiency_b": _FORMULA,
                "efficiency_c": _FORMULA,
                "efficiency_light": _FORMULA,
            },
        },
    },
}
register_section("detector", DETECTOR_SCHEMA)


@dataclass(frozen=True)
class Detector:
    """A detector description (a preset with overrides applied). ``config`` is the merged mapping."""

    name: str
    config: dict[str, Any]

    def formula(self, section: str, key: str) -> Any:
        """The compiled formula ``config[section][key]`` (a function of pt, eta, phi, energy)."""
        return _compile_formula(self.config[section][key], f"detector.{section}.{key}")

    def __getitem__(self, key: str) -> Any:
        return self.config[key]


def _compile_formula(text: str, path: str) -> Any:
    return compile_expression(str(text), names=_VARS, path=path)


def available_presets() -> tuple[str, ...]:
    """Names of the presets shipped with lhcgold."""
    files = resources.files(__package__).joinpath("presets")
    return tuple(sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".yaml")))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _validate(config: dict[str, Any], source: str | None) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(DETECTOR_SCHEMA)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        path = ".".join(["detector", *map(str, e.path)])
        raise ConfigError(e.message, path=path, source=source)
    for section in ("electron", "muon", "photon", "jet", "btag"):
        for key, value in (config.get(section) or {}).items():
            if key.startswith("efficiency") or key.endswith("resolution"):
                _compile_formula(value, f"detector.{section}.{key}")


def load_preset(preset: str | Detector = "atlas", *, overrides: dict[str, Any] | None = None) -> Detector:
    """A shipped preset (``"atlas"``, ``"cms"``) with optional overrides (nested keys merged).

    Raises:
        ConfigError: unknown preset, or overrides that break the schema or contain bad formulas.
    """
    if isinstance(preset, Detector):
        base = preset.config
        name = preset.name
    else:
        names = available_presets()
        if preset not in names:
            raise unknown_name_error("detector preset", preset, names)
        text = resources.files(__package__).joinpath("presets", f"{preset}.yaml").read_text(encoding="utf-8")
        base = yaml.safe_load(text)
        name = preset
    over = {k: v for k, v in (overrides or {}).items() if k != "preset"}
    config = _merge(base, over)
    _validate(config, None)
    return Detector(name=name, config=config)


def detector_from_card(card: Any, *, preset: str | None = None) -> Detector:
    """The detector from the card's ``detector:`` section (``preset`` argument wins over the card's)."""

    section = check_section(card, "detector", DETECTOR_SCHEMA)
    chosen = preset or section.get("preset", "atlas")
    try:
        return load_preset(chosen, overrides=section)
    except ConfigError as exc:
        raise ConfigError(exc.message, path=exc.path, source=str(card.source) if card.source else None) from None


# ---------------------------------------------------------------------------------------------
# simulation

_INVISIBLE = {12, 14, 16, 1000012, 1000014, 1000016, 1000022, 1000039, 9000006}


def _kin(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(np.where(pt > 0, pz / np.where(pt > 0, pt, 1.0), np.sign(pz) * 1e10))
    return pt, np.clip(eta, -1e3, 1e3), np.arctan2(py, px)


def _eval(formula: Any, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, energy: np.ndarray) -> np.ndarray:
    out = np.asarray(formula({"pt": pt, "eta": eta, "phi": phi, "energy": energy}), dtype=np.float64)
    return np.broadcast_to(out, pt.shape).astype(np.float64)


def _positive_gauss(rng: np.random.Generator, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Gaussian draws redrawn until positive (as Delphes' smearing modules do for energies)."""
    out = mean + sigma * rng.standard_normal(mean.shape)
    bad = out <= 0
    for _ in range(100):
        if not bad.any():
            break
        out[bad] = mean[bad] + sigma[bad] * rng.standard_normal(int(bad.sum()))
        bad = out <= 0
    return np.where(out > 0, out, mean)


def _isolation(
    cand_ev: np.ndarray,
    cand_pt: np.ndarray,
    cand_eta: np.ndarray,
    cand_phi: np.ndarray,
    vis_ev: np.ndarray,
    vis_pt: np.ndarray,
    vis_eta: np.ndarray,
    vis_phi: np.ndarray,
    n: int,
    delta_r: float,
) -> np.ndarray:
    """Scalar p_T sum of the visible particles within delta_r of each candidate, minus its own p_T."""
    if cand_ev.size == 0:
        return np.zeros(0)
    cand = ak.unflatten(
        ak.zip({"eta": cand_eta, "phi": cand_phi, "k": np.arange(cand_ev.size)}), np.bincount(cand_ev, minlength=n)
    )
    vis = ak.unflatten(ak.zip({"eta": vis_eta, "phi": vis_phi, "pt": vis_pt}), np.bincount(vis_ev, minlength=n))
    pairs = ak.cartesian([cand, vis], axis=1, nested=True)
    c, v = ak.unzip(pairs)
    dphi = (v.phi - c.phi + np.pi) % (2 * np.pi) - np.pi
    dr2 = (v.eta - c.eta) ** 2 + dphi**2
    sums = ak.sum(ak.where(dr2 < delta_r**2, v.pt, 0.0), axis=2)
    flat = np.asarray(ak.to_numpy(ak.flatten(sums)), dtype=np.float64)
    order = np.asarray(ak.to_numpy(ak.flatten(cand.k)))
    out = np.empty(cand_ev.size)
    out[order] = flat
    return out - cand_pt


def _lepton_like(
    kind: str,
    det: Detector,
    rng: np.random.Generator,
    n: int,
    ev: np.ndarray,
    idx: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    charge: np.ndarray,
    vis: dict[str, np.ndarray],
    mass: float,
) -> tuple[ak.Array, np.ndarray, np.ndarray]:
    """Select, isolate, keep with efficiency and smear one species; returns (objects, used particle
    indices, (dpx, dpy) smearing shift)."""
    cfg = det.config[kind]
    pt, eta, phi = _kin(px, py, pz)
    acc = (pt > cfg.get("pt_min", 0.0)) & (np.abs(eta) < cfg.get("eta_max", 1e9))
    ev, idx, px, py, pz, e, charge, pt, eta, phi = (a[acc] for a in (ev, idx, px, py, pz, e, charge, pt, eta, phi))
    iso_cfg = cfg.get("isolation")
    if iso_cfg:
        vmask = vis["pt"] > iso_cfg.get("min_pt", 0.0)
        iso = _isolation(
            ev,
            pt,
            eta,
            phi,
            vis["ev"][vmask],
            vis["pt"][vmask],
            vis["eta"][vmask],
            vis["phi"][vmask],
            n,
            float(iso_cfg.get("delta_r", 0.3)),
        )
        keep = iso <= iso_cfg.get("max_relative", np.inf) * pt
        ev, idx, px, py, pz, e, charge, pt, eta, phi = (a[keep] for a in (ev, idx, px, py, pz, e, charge, pt, eta, phi))
    eff = np.clip(_eval(det.formula(kind, "efficiency"), pt, eta, phi, e), 0.0, 1.0)
    keep = rng.random(pt.shape) < eff
    ev, idx, px, py, pz, e, charge, pt, eta, phi = (a[keep] for a in (ev, idx, px, py, pz, e, charge, pt, eta, phi))
    if kind == "muon":
        sigma = np.abs(_eval(det.formula(kind, "pt_resolution"), pt, eta, phi, e))
        pt_new = _positive_gauss(rng, pt, sigma)
    else:
        sigma = np.abs(_eval(det.formula(kind, "energy_resolution"), pt, eta, phi, e))
        e_new = _positive_gauss(rng, e, sigma)
        pt_new = pt * e_new / np.where(e > 0, e, 1.0)
    shift_x = (pt_new - pt) * np.cos(phi)
    shift_y = (pt_new - pt) * np.sin(phi)
    counts = np.bincount(ev, minlength=n)
    objs = make_objects(
        ak.unflatten(pt_new, counts),
        ak.unflatten(eta, counts),
        ak.unflatten(phi, counts),
        ak.unflatten(np.full(pt.shape, mass), counts),
        charge=ak.unflatten(charge, counts),
    )
    dx = np.bincount(ev, weights=shift_x, minlength=n)
    dy = np.bincount(ev, weights=shift_y, minlength=n)
    return objs, idx, np.stack([dx, dy])


def simulate(
    events: Any,
    *,
    preset: str | Detector = "atlas",
    overrides: dict[str, Any] | None = None,
    rng: np.random.Generator | int | None = None,
) -> RecoEvents:
    """Run the fast detector simulation on a chunk of events.

    Args:
        events: a :class:`~lhcgold.shower.ShowerChunk` (``particles``, ``bhadrons``, ``chadrons``,
            ``weights``, ``weight_names``) or an :class:`~lhcgold.io.lhe.LHEChunk` (parton level:
            b/c partons serve as flavour truth).
        preset: preset name or a :class:`Detector`.
        overrides: entries replacing the preset's.
        rng: numpy Generator, seed or None.

    Returns:
        :class:`~lhcgold.observables.RecoEvents` with the events' weights.
    """
    det = preset if (isinstance(preset, Detector) and not overrides) else load_preset(preset, overrides=overrides)
    rng = np.random.default_rng(rng)
    parts = events.particles
    n = len(parts)
    counts = np.asarray(ak.num(parts, axis=1))
    flat = ak.flatten(parts)
    px, py, pz, e = (np.asarray(ak.to_numpy(flat[c]), dtype=np.float64) for c in ("px", "py", "pz", "E"))
    pid = np.asarray(ak.to_numpy(flat.pid), dtype=np.int64)
    charge = np.asarray(ak.to_numpy(flat.charge), dtype=np.float64) if "charge" in flat.fields else np.zeros(pid.shape)
    ev = np.repeat(np.arange(n), counts)
    idx = np.arange(pid.size)
    apid = np.abs(pid)
    pt, eta, phi = _kin(px, py, pz)
    invisible = np.isin(apid, list(_INVISIBLE))
    parton = (apid <= 6) | (apid == 21)  # at parton level, quarks and gluons make jets
    in_calo = np.abs(eta) < det.config.get("calorimeter_eta_max", 5.0)
    visible = ~invisible & in_calo
    vis = {"ev": ev[visible], "pt": pt[visible], "eta": eta[visible], "phi": phi[visible]}
    out: dict[str, ak.Array] = {}
    shifts = np.zeros((2, n))
    used = np.zeros(pid.size, dtype=bool)
    for kind, code, mass in (("electron", 11, 0.000511), ("muon", 13, 0.10566), ("photon", 22, 0.0)):
        sel = (apid == code) & visible
        objs, used_idx, sh = _lepton_like(
            kind, det, rng, n, ev[sel], idx[sel], px[sel], py[sel], pz[sel], e[sel], charge[sel], vis, mass
        )
        out[kind] = objs
        shifts += sh
        if kind != "muon":
            used[used_idx] = True
    # jets
    jmask = visible & ~used & (apid != 13)
    jets, jshift = _jets(
        det, rng, n, ev[jmask], px[jmask], py[jmask], pz[jmask], e[jmask], events, parton_level=bool(parton.any())
    )
    shifts += jshift
    # missing E_T
    mx = -np.bincount(ev[visible], weights=px[visible], minlength=n) - shifts[0]
    my = -np.bincount(ev[visible], weights=py[visible], minlength=n) - shifts[1]
    met = make_met(np.hypot(mx, my), np.arctan2(my, mx))
    weights = np.asarray(events.weights, dtype=np.float64)
    names = tuple(events.weight_names)
    if weights.ndim == 2 and hasattr(events, "nominal") and "nominal" not in names:
        weights = np.concatenate([np.asarray(events.nominal)[:, None], weights], axis=1)
        names = ("nominal", *names)
    return RecoEvents(
        electrons=out["electron"],
        muons=out["muon"],
        photons=out["photon"],
        jets=jets,
        met=met,
        weights=weights,
        weight_names=names,
    )


def _jets(
    det: Detector,
    rng: np.random.Generator,
    n: int,
    ev: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    events: Any,
    *,
    parton_level: bool,
) -> tuple[ak.Array, np.ndarray]:
    try:
        import fastjet
    except ImportError as exc:  # GPL code kept out of the default install: the ``detector`` extra
        raise MissingDependencyError("fastjet (jet clustering in the fast detector)", "detector") from exc

    cfg = det.config["jet"]
    algo = {"antikt": fastjet.antikt_algorithm, "kt": fastjet.kt_algorithm, "cambridge": fastjet.cambridge_algorithm}[
        cfg.get("algorithm", "antikt")
    ]
    jetdef = fastjet.JetDefinition(algo, float(cfg.get("radius", 0.4)))
    counts = np.bincount(ev, minlength=n)
    inputs = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": e}), counts)
    empty = ak.unflatten(
        ak.zip({"px": np.zeros(0), "py": np.zeros(0), "pz": np.zeros(0), "E": np.zeros(0)}), np.zeros(n, dtype=np.int64)
    )
    if px.size:
        raw = fastjet.ClusterSequence(inputs, jetdef).inclusive_jets(min_pt=max(0.5 * cfg.get("pt_min", 0.0), 1.0))
    else:
        raw = empty
    jc = np.asarray(ak.num(raw, axis=1))
    flat = ak.flatten(raw)
    jx, jy, jz, je = (np.asarray(ak.to_numpy(flat[c]), dtype=np.float64) for c in ("px", "py", "pz", "E"))
    jev = np.repeat(np.arange(n), jc)
    jpt, jeta, jphi = _kin(jx, jy, jz)
    sigma = np.abs(_eval(det.formula("jet", "energy_resolution"), jpt, jeta, jphi, je))
    e_new = _positive_gauss(rng, je, sigma)
    f = e_new / np.where(je > 0, je, 1.0)
    jx2, jy2, jz2, je2 = jx * f, jy * f, jz * f, je * f
    pt2 = jpt * f
    m2 = np.maximum(je2**2 - jx2**2 - jy2**2 - jz2**2, 0.0)
    keep = (pt2 > cfg.get("pt_min", 0.0)) & (np.abs(jeta) < cfg.get("eta_max", 1e9))
    # MET responds to the smearing of the kept jets
    shift = np.stack(
        [
            np.bincount(jev[keep], weights=(jx2 - jx)[keep], minlength=n),
            np.bincount(jev[keep], weights=(jy2 - jy)[keep], minlength=n),
        ]
    )
    jev, pt2, jeta, jphi, m = jev[keep], pt2[keep], jeta[keep], jphi[keep], np.sqrt(m2[keep])
    flavour = _flavour(det, n, jev, jeta, jphi, events, parton_level=parton_level)
    bt = det.config["btag"]
    eff = np.zeros(pt2.shape)
    for code, key in ((5, "efficiency_b"), (4, "efficiency_c"), (0, "efficiency_light")):
        sel = flavour == code
        if sel.any():
            eff[sel] = _eval(det.formula("btag", key), pt2[sel], jeta[sel], jphi[sel], pt2[sel] * np.cosh(jeta[sel]))
    btag = (rng.random(pt2.shape) < np.clip(eff, 0, 1)) & (np.abs(jeta) < bt.get("eta_max", 2.5))
    c = np.bincount(jev, minlength=n)
    jets = make_objects(
        ak.unflatten(pt2, c),
        ak.unflatten(jeta, c),
        ak.unflatten(jphi, c),
        ak.unflatten(m, c),
        btag=ak.unflatten(btag.astype(np.int64), c),
        tautag=ak.unflatten(np.zeros(c.sum(), np.int64), c),
        flavour=ak.unflatten(flavour, c),
    )
    return jets, shift


def _flavour(
    det: Detector, n: int, jev: np.ndarray, jeta: np.ndarray, jphi: np.ndarray, events: Any, *, parton_level: bool
) -> np.ndarray:
    """5 for jets with a b hadron (b parton at parton level) within btag.delta_r, else 4 for c, else 0."""
    flavour = np.zeros(jev.shape, dtype=np.int64)
    if jev.size == 0:
        return flavour
    dr = float(det.config["btag"].get("delta_r", 0.3))
    sources: list[tuple[int, ak.Array]] = []
    if hasattr(events, "bhadrons"):
        sources = [(4, events.chadrons), (5, events.bhadrons)]
    else:
        p = events.particles
        sources = [(4, p[abs(p.pid) == 4]), (5, p[abs(p.pid) == 5])]
    jets = ak.unflatten(ak.zip({"eta": jeta, "phi": jphi, "k": np.arange(jev.size)}), np.bincount(jev, minlength=n))
    for code, had in sources:
        if ak.sum(ak.num(had, axis=1)) == 0:
            continue
        h = ak.zip({"eta": had.eta, "phi": had.phi})
        pairs = ak.cartesian([jets, h], axis=1, nested=True)
        a, b = ak.unzip(pairs)
        dphi = (b.phi - a.phi + np.pi) % (2 * np.pi) - np.pi
        near = ak.any((b.eta - a.eta) ** 2 + dphi**2 < dr * dr, axis=2)
        hit = np.asarray(ak.to_numpy(ak.flatten(near)))
        order = np.asarray(ak.to_numpy(ak.flatten(jets.k)))
        flavour[order[hit]] = code  # b (second) wins over c
    return flavour
