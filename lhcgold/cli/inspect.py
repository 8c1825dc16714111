"""``lhcgold inspect FILE``: what a setup or events file holds."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..exceptions import MorphingError
from ..io.events import EventFile


@click.command("inspect")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def command(path: Path) -> None:
    """Show parameters, benchmarks, morphing, events and cross sections of FILE."""
    ef = EventFile(path)
    s = ef.setup
    out = [f"file: {path}"]
    if ef.attrs:
        out.append("attributes: " + ", ".join(f"{k}={v}" for k, v in sorted(ef.attrs.items())))
    out.append(f"parameters ({s.n_parameters}):")
    for p in s.parameters:
        out.append(
            f"  {p.name:<16} range [{p.range[0]:g}, {p.range[1]:g}]  max power {p.max_power}"
            + (f"  LHA {p.lha_block} {p.lha_id}" if p.lha_block else "")
        )
    xsec = ef.xsec_per_benchmark() if ef.n_events else None
    out.append(f"benchmarks ({s.n_benchmarks}):")
    for i, b in enumerate(s.benchmarks):
        vals = ", ".join(f"{k}={v:g}" for k, v in b.values.items())
        line = f"  {b.name:<28} {vals}"
        if xsec is not None:
            line += f"   sigma = {xsec[i]:.6g} pb"
        out.append(line)
    if s.has_morphing:
        try:
            m = s.morpher
            out.append(
                f"morphing: {m.n_components} components on {m.n_benchmarks} benchmarks, "
                f"condition number {m.condition_number:.4g}"
            )
        except MorphingError as exc:
            out.append(f"morphing: unusable ({exc})")
    else:
        out.append("morphing: none")
    out.append(f"observables ({len(ef.observables)}): {', '.join(ef.observables) or '-'}")
    out.append(f"events: {ef.n_events}" + ("  (with component weights)" if ef.has_components else ""))
    if ef.n_events:
        counts = ef.sampling_counts
        runs = ", ".join(f"{s.benchmark_names[i]}: {c}" for i, c in enumerate(counts) if c)
        out.append(
            f"sampled at: {runs or '-'}"
            + (f"; background: {ef.n_events - int(np.sum(counts))}" if ef.n_events > np.sum(counts) else "")
        )
    click.echo("\n".join(out))
