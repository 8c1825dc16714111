"""Reconstructed events: the objects that observables and cuts see.

:class:`RecoEvents` holds, for a chunk of ``n`` events, the electrons, muons, photons and jets as
jagged awkward arrays of ``Momentum4D`` records (``pt, eta, phi, mass`` plus ``charge``; jets also
``btag, tautag``) sorted by descending p_T, the missing transverse momentum as one ``Momentum4D``
per event (``pt`` = MET, ``eta = mass = 0``), optional truth particles, and the event weights.
The fast detector simulation, the Delphes reader and the parton-level LHE path all produce it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np
import vector

vector.register_awkward()

__all__ = ["RecoEvents", "make_met", "make_objects", "sort_by_pt"]


def sort_by_pt(objects: ak.Array) -> ak.Array:
    """Sort each event's objects by descending p_T."""
    return objects[ak.argsort(objects.pt, axis=1, ascending=False)]


def make_objects(pt: Any, eta: Any, phi: Any, mass: Any, **extra: Any) -> ak.Array:
    """Jagged ``Momentum4D`` objects (pt, eta, phi, mass + extra fields), sorted by p_T."""
    fields = {"pt": pt, "eta": eta, "phi": phi, "mass": mass, **extra}
    return sort_by_pt(ak.zip(fields, with_name="Momentum4D"))


def make_met(met: Any, phi: Any) -> ak.Array:
    """One ``Momentum4D`` per event with p_T = MET, eta = mass = 0."""
    met = np.asarray(met, dtype=np.float64)
    return ak.zip(
        {"pt": met, "eta": np.zeros_like(met), "phi": np.asarray(phi, dtype=np.float64), "mass": np.zeros_like(met)},
        with_name="Momentum4D",
    )


@dataclass(frozen=True)
class RecoEvents:
    """A chunk of reconstructed (or parton-level) events.

    Attributes:
        electrons, muons, photons, jets: (n, var) ``Momentum4D`` records sorted by p_T.
        met: (n,) ``Momentum4D`` missing transverse momentum.
        weights: (n, W) event weights [pb]; weight_names: their names.
        truth: (n, var) truth particles (LHE final state) or None.
        extra: more named per-event arrays (e.g. neutrinos at parton level).
    """

    electrons: ak.Array
    muons: ak.Array
    photons: ak.Array
    jets: ak.Array
    met: ak.Array
    weights: np.ndarray
    weight_names: tuple[str, ...]
    truth: ak.Array | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.met)

    @property
    def leptons(self) -> ak.Array:
        """Electrons and muons merged, sorted by p_T."""
        fields = [f for f in self.electrons.fields if f in self.muons.fields]
        e = ak.zip({f: self.electrons[f] for f in fields}, with_name="Momentum4D")
        m = ak.zip({f: self.muons[f] for f in fields}, with_name="Momentum4D")
        return sort_by_pt(ak.concatenate([e, m], axis=1))

    @property
    def bjets(self) -> ak.Array:
        """b-tagged jets."""
        if "btag" not in self.jets.fields:
            return self.jets[ak.zeros_like(self.jets.pt, dtype=bool)]
        return self.jets[self.jets.btag > 0]

    @property
    def visible(self) -> ak.Array:
        """Sum of all visible objects (one ``Momentum4D`` per event)."""
        colls = (self.electrons, self.muons, self.photons, self.jets)
        sums = {
            c: sum(ak.to_numpy(ak.sum(getattr(coll, c), axis=1)) for coll in colls) for c in ("px", "py", "pz", "E")
        }
        return ak.zip(sums, with_name="Momentum4D")

    def namespace(self) -> dict[str, Any]:
        """Names available to string expressions."""
        ns: dict[str, Any] = {
            "e": self.electrons,
            "mu": self.muons,
            "l": self.leptons,
            "a": self.photons,
            "j": self.jets,
            "b": self.bjets,
            "met": self.met,
            "visible": self.visible,
        }
        if self.truth is not None:
            ns["p"] = self.truth
        ns.update(self.extra)
        return ns

    def take(self, mask: np.ndarray) -> RecoEvents:
        """The events where ``mask`` is true (or at the given indices)."""
        return RecoEvents(
            electrons=self.electrons[mask],
            muons=self.muons[mask],
            photons=self.photons[mask],
            jets=self.jets[mask],
            met=self.met[mask],
            weights=self.weights[mask],
            weight_names=self.weight_names,
            truth=None if self.truth is None else self.truth[mask],
            extra={k: v[mask] for k, v in self.extra.items()},
        )
