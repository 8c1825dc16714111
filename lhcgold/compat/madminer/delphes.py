"""``DelphesReader``: observables and weights from Delphes ROOT files (madminer's ``madminer.delphes``).

Delphes must have been run already (``add_sample(..., delphes_filename=...)``); showering and running
Delphes from HepMC files (``run_delphes``) is lhcgold's ``shower``/``reconstruct`` stages instead.
The analysis itself is :func:`lhcgold.reconstruct.reconstruct` at detector level.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator

from ...exceptions import ConfigError
from ...observables.objects import RecoEvents
from ...reconstruct import ReconstructionSample, iter_reco_events
from ._reader import _Reader, sample_of

logger = logging.getLogger(__name__)

__all__ = ["DelphesReader"]


class DelphesReader(_Reader):
    """Detector-level analysis of Delphes ROOT files (madminer's ``DelphesReader``).

    Args:
        filename: the setup file (``MadMiner.save``).
    """

    def add_sample(
        self,
        hepmc_filename: str | None = None,
        sampled_from_benchmark: str | None = None,
        is_background: bool = False,
        delphes_filename: str | os.PathLike[str] | None = None,
        lhe_filename: str | os.PathLike[str] | None = None,
        k_factor: float = 1.0,
        weights: str = "lhe",
        systematics: Iterable[str] | None = None,
    ) -> None:
        """A Delphes ROOT file (``delphes_filename``), with the LHE file it came from for the weight names."""
        if delphes_filename is None:
            raise ConfigError(
                "add_sample needs delphes_filename: running Delphes on HepMC files is not supported "
                "(shower and reconstruct with lhcgold, or run Delphes yourself)"
            )
        if weights != "lhe":
            raise ConfigError("only weights='lhe' is supported")
        self.samples.append(
            sample_of(
                delphes_filename,
                sampled_from_benchmark,
                is_background,
                k_factor,
                list(systematics or []),
                lhe=lhe_filename,
            )
        )

    def run_delphes(self, *args: object, **kwargs: object) -> None:
        """Not available: pass the Delphes output with ``add_sample(delphes_filename=...)``."""
        raise ConfigError(
            "run_delphes is not supported: run Delphes yourself and pass delphes_filename to "
            "add_sample(), or use lhcgold's shower and fast detector"
        )

    def set_acceptance(self, *args: object, **kwargs: object) -> None:
        """Not available: express acceptance requirements as cuts (``add_cut``)."""
        raise ConfigError("set_acceptance is not supported: use add_cut() on the objects (e.g. 'e[0].pt > 10')")

    def analyse_delphes_samples(
        self,
        generator_truth: bool = False,
        delete_delphes_files: bool = False,
        reference_benchmark: str | None = None,
        parse_lhe_events_as_xml: bool = True,
        *,
        chunk_size: int = 10_000,
    ) -> None:
        """Read every Delphes file, compute observables, cuts and efficiencies, and keep the weights."""
        if generator_truth:
            raise ConfigError("generator_truth is not supported")

        def chunks(sample: ReconstructionSample) -> Iterator[RecoEvents]:
            return iter_reco_events(sample, level="detector", chunk_size=chunk_size)

        self._analyse(chunks, "compat.madminer.DelphesReader")
