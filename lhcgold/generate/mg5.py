"""The MG5_aMC generator backend: cards from the analysis card, runs through :mod:`lhcgold.runtime`.

Card section (``generator:``; the benchmarks and parameters come from the analysis card, each
parameter with its ``lha_block`` and ``lha_id``, as in MadMiner)::

    generator:
      backend: mg5
      mg5_home: /opt/MG5_aMC_v3_5_7        # default: $MG5_HOME (inside the image for containers)
      runtime: {engine: local}              # or {engine: podman, image: lhcgold-sim:latest, mounts: [...]}
      model: EWdim6                         # UFO name in MG5's models/, or a path
      restrict: null                        # restrict_<name>.dat -> import model MODEL-<name>
      define: {p: g u c d s u~ c~ d~ s~}
      process: ["p p > e+ ve a QCD=0 QED=99 NP=2"]
      decays: []                            # MadSpin decay lines (MadSpin runs when given)
      sqrt_s_gev: 13000
      use_syst: false                       # MG5 scale/PDF systematics weights
      run_card: {pta: 100, ptl: 20}         # any run_card entry
      param_card: null                      # base param_card (default: the one MG5 writes)
      param_card_set: {SMEFT: 0}            # entries fixed in every param_card: a whole block or {id: value}
      reweight: true                        # reweight to every benchmark
      timeout_s: null
      runs:                                 # each run: its own directory and MG5 process
        - {name: sm, benchmark: sm, n_events: 10000, seed: 1}
        - {name: bkg, background: true, process: ["p p > e+ ve j"], n_events: 5000}

Per run ``R`` the backend writes ``OUT/mg5/R/proc_card_mg5.dat``, runs ``mg5_aMC`` on it
(``output process``), writes ``run_card.dat``, ``param_card.dat`` (generation benchmark),
``reweight_card.dat`` and (with decays) ``madspin_card.dat`` into ``process/Cards``, runs
``mg5_aMC launch_commands.mg5`` (``launch process`` with explicit switches: reweight, MadSpin,
no shower, no detector, as MadMiner does), and copies the LHE to ``OUT/R.lhe.gz``. Every step
leaves a completion marker, so a rerun after a failure resumes where it stopped.
A Delphes ROOT file that MG5 wrote itself (``delphes=ON`` in MG5's own setup) is collected as
``OUT/R.delphes.root``. ``OUT/runs.json`` lists the runs (file, sampled_from, background, σ),
ready for ``lhcgold reconstruct``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import AnalysisCard, check_section
from ..exceptions import ConfigError, EventFileError, ExternalToolError, unknown_name_error
from ..io.atomic import atomic_path
from ..runtime import ENGINES, Runtime, read_tail, run_program
from . import mg5_cards as cards

logger = logging.getLogger(__name__)

__all__ = [
    "GENERATOR_MG5_SCHEMA",
    "MG5Options",
    "MG5Run",
    "MG5RunResult",
    "MG5Summary",
    "generate_mg5",
    "parse_mg5",
    "samples_from_manifest",
    "write_run_cards",
]

_str_list = {"type": "array", "items": {"type": "string", "minLength": 1}}
_RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.-]*$"},
        "benchmark": {"type": "string"},
        "background": {"type": "boolean"},
        "n_events": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer", "minimum": 0},
        "process": {**_str_list, "minItems": 1},
        "decays": _str_list,
        "run_card": {"type": "object"},
    },
}

#: JSON Schema of the ``generator:`` section with ``backend: mg5``
GENERATOR_MG5_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["backend", "model", "process"],
    "additionalProperties": False,
    "properties": {
        "backend": {"const": "mg5"},
        "mg5_home": {"type": "string"},
        "runtime": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "engine": {"enum": list(ENGINES)},
                "image": {"type": "string"},
                "engine_path": {"type": "string"},
                "mounts": _str_list,
                "extra_args": _str_list,
                "user": {"type": "string"},
                "engine_args": _str_list,
            },
        },
        "model": {"type": "string", "minLength": 1},
        "restrict": {"type": ["string", "null"]},
        "define": {"type": "object", "additionalProperties": {"type": "string"}},
        "process": {**_str_list, "minItems": 1},
        "decays": _str_list,
        "sqrt_s_gev": {"type": "number", "exclusiveMinimum": 0},
        "use_syst": {"type": "boolean"},
        "run_card": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "param_card": {"type": ["string", "null"]},
        "param_card_set": {
            "type": "object",
            "additionalProperties": {
                "anyOf": [{"type": "number"}, {"type": "object", "additionalProperties": {"type": "number"}}]
            },
        },
        "templates": {"type": ["string", "null"]},
        "reweight": {"type": "boolean"},
        "timeout_s": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "runs": {"type": "array", "minItems": 1, "items": _RUN_SCHEMA},
    },
}


@dataclass(frozen=True)
class MG5Run:
    """One MG5 generation run (its own directory and process)."""

    name: str
    benchmark: str | None
    background: bool
    n_events: int
    seed: int
    process: tuple[str, ...]
    decays: tuple[str, ...]
    run_card: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MG5Options:
    """The validated ``generator:`` section (``backend: mg5``)."""

    mg5_home: str | None
    runtime: Runtime
    model: str
    restrict: str | None
    define: dict[str, str]
    sqrt_s_gev: float
    use_syst: bool
    run_card: dict[str, Any]
    param_card: Path | None
    param_card_set: tuple[tuple[str, int | None, float], ...]
    templates: Path | None
    reweight: bool
    timeout_s: float | None
    runs: tuple[MG5Run, ...]


def _resolve(base: Path | None, value: str | None) -> Path | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() or base is None else base / p


def parse_mg5(card: AnalysisCard, *, n_events: int | None = None, seed: int | None = None) -> MG5Options:
    """Validate the ``generator:`` section and the MG5 side of the parameters.

    Raises:
        ConfigError: schema violations, parameters without ``lha_block``/``lha_id``, unknown
            benchmarks, duplicate run names.
    """
    src = str(card.source) if card.source else None
    sec = check_section(card, "generator", GENERATOR_MG5_SCHEMA)
    base = card.source.parent if card.source else None
    for i, p in enumerate(card.parameters):
        if not p.lha_block or p.lha_id <= 0:
            raise ConfigError(
                f"parameter {p.name!r} needs lha_block and lha_id (a param_card entry) for MG5",
                path=f"parameters[{i}]",
                source=src,
            )
    gen_seed = 0 if seed is None else int(seed)
    default_runs = [{"name": card.benchmarks[0].name if card.benchmarks else "run", "seed": gen_seed + 1}]
    runs: list[MG5Run] = []
    seen: set[str] = set()
    for k, r in enumerate(sec.get("runs") or default_runs):
        name = r["name"]
        if name in seen:
            raise ConfigError(f"duplicate run name {name!r}", path=f"generator.runs[{k}].name", source=src)
        seen.add(name)
        bg = bool(r.get("background", False))
        bench = r.get("benchmark")
        if bench is None and not bg and card.benchmarks:
            bench = card.benchmarks[0].name
        if bench is not None and bench not in card.benchmark_names:
            raise unknown_name_error(
                "benchmark", bench, card.benchmark_names, path=f"generator.runs[{k}].benchmark", source=src
            )
        runs.append(
            MG5Run(
                name=name,
                benchmark=bench,
                background=bg,
                n_events=int(n_events if n_events is not None else r.get("n_events", 10_000)),
                seed=int(r.get("seed", gen_seed + k + 1)) if seed is None else gen_seed + k + 1,
                process=tuple(r.get("process", sec["process"])),
                decays=tuple(r.get("decays", sec.get("decays", ()))),
                run_card=dict(r.get("run_card", {})),
            )
        )
    param_card = _resolve(base, sec.get("param_card"))
    if param_card is not None and not param_card.is_file():
        raise ConfigError(
            f"cannot read the param_card {str(param_card)!r}: no such file", path="generator.param_card", source=src
        )
    templates = _resolve(base, sec.get("templates"))
    if templates is not None and not templates.is_dir():
        raise ConfigError(
            f"templates directory {str(templates)!r} does not exist", path="generator.templates", source=src
        )
    try:
        runtime = Runtime.from_mapping(sec.get("runtime"))
    except ConfigError as exc:
        raise ConfigError(exc.message, path="generator.runtime", source=src) from None
    return MG5Options(
        mg5_home=sec.get("mg5_home") or os.environ.get("MG5_HOME"),
        runtime=runtime,
        model=sec["model"],
        restrict=sec.get("restrict"),
        define=dict(sec.get("define", {})),
        sqrt_s_gev=float(sec.get("sqrt_s_gev", 13000.0)),
        use_syst=bool(sec.get("use_syst", False)),
        run_card=dict(sec.get("run_card", {})),
        param_card=param_card,
        param_card_set=_param_card_set(card, sec.get("param_card_set") or {}, src),
        templates=templates,
        reweight=bool(sec.get("reweight", True)),
        timeout_s=sec.get("timeout_s"),
        runs=tuple(runs),
    )


def _param_card_set(
    card: AnalysisCard, section: dict[str, Any], src: str | None
) -> tuple[tuple[str, int | None, float], ...]:
    """``generator.param_card_set`` as (block, id or None for the whole block, value) entries."""
    params = {(p.lha_block.lower(), p.lha_id): p.name for p in card.parameters}
    out: list[tuple[str, int | None, float]] = []
    for block, value in section.items():
        if not isinstance(value, dict):
            out.append((str(block).lower(), None, float(value)))
            continue
        for key, v in value.items():
            where = f"generator.param_card_set.{block}.{key}"
            try:
                lha_id = int(key)
            except (TypeError, ValueError):
                raise ConfigError(f"param_card entry ids are integers, got {key!r}", path=where, source=src) from None
            if (str(block).lower(), lha_id) in params:
                raise ConfigError(
                    f"{str(block).upper()} {lha_id} is parameter {params[(str(block).lower(), lha_id)]!r}; "
                    "its value comes from the benchmarks",
                    path=where,
                    source=src,
                )
            out.append((str(block).lower(), lha_id, float(v)))
    return tuple(out)


def _fixed_values(card: AnalysisCard, opts: MG5Options, base: str, where: str) -> dict[tuple[str, int], float]:
    """The ``param_card_set`` entries for one base param_card (a whole block: every entry of it in
    ``base`` that is not a parameter); checks that every parameter's entry exists in ``base``.

    Raises:
        ConfigError: a parameter's or a ``param_card_set`` entry is not in the param_card.
    """
    entries = cards.parse_param_card(base)
    blocks = sorted({b.upper() for b, _ in entries})
    for i, p in enumerate(card.parameters):
        if (p.lha_block.lower(), p.lha_id) not in entries:
            raise ConfigError(
                f"parameter {p.name!r} sets {p.lha_block.upper()} {p.lha_id}, which the param_card {where} does not "
                f"have (blocks: {', '.join(blocks) or 'none'})",
                path=f"parameters[{i}]",
            )
    params = {(p.lha_block.lower(), p.lha_id) for p in card.parameters}
    out: dict[tuple[str, int], float] = {}
    for block, lha_id, value in opts.param_card_set:
        keys = [k for k in entries if k[0] == block] if lha_id is None else [(block, lha_id)]
        missing = not keys or any(k not in entries for k in keys)
        if missing:
            what = f"block {block.upper()}" if lha_id is None else f"entry {block.upper()} {lha_id}"
            raise ConfigError(
                f"the param_card {where} has no {what} (blocks: {', '.join(blocks) or 'none'})",
                path=f"generator.param_card_set.{block}",
            )
        out.update({k: value for k in keys if k not in params})
    return out


def _read_base_param_card(opts: MG5Options) -> str | None:
    if opts.param_card is None:
        return None
    try:
        return opts.param_card.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the param_card {str(opts.param_card)!r}: {exc.strerror or exc}", path="generator.param_card"
        ) from None


def _param_values(card: AnalysisCard, benchmark: str | None) -> dict[tuple[str, int], float]:
    if benchmark is None:
        return {}
    b = card.benchmarks[card.benchmark_names.index(benchmark)]
    return {(p.lha_block.lower(), p.lha_id): p.card_value(float(b.values.get(p.name, 0.0))) for p in card.parameters}


def _run_settings(opts: MG5Options, run: MG5Run) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "nevents": run.n_events,
        "iseed": run.seed,
        "ebeam1": opts.sqrt_s_gev / 2,
        "ebeam2": opts.sqrt_s_gev / 2,
        "use_syst": opts.use_syst,
    }
    settings.update(opts.run_card)
    settings.update(run.run_card)
    return settings


@dataclass(frozen=True)
class WrittenCards:
    """Paths of the cards written for one run (None: not written)."""

    proc_card: Path
    run_card: Path
    param_card: Path | None
    reweight_card: Path | None
    madspin_card: Path | None


def _write(path: Path, text: str) -> Path:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_run_cards(
    card: AnalysisCard,
    opts: MG5Options,
    run: MG5Run,
    cards_dir: Path,
    *,
    run_card_template: str | None = None,
    param_card_template: str | None = None,
) -> WrittenCards:
    """Write the run, param, reweight and MadSpin cards of one run into ``cards_dir``.

    The templates default to the process directory's own cards (MG5 writes them at ``output``),
    then to the ``templates`` directory, then to the packaged ones; the param_card needs a base
    (``param_card:`` in the section, or MG5's) and is skipped with a log message without one. Into
    the base go the ``param_card_set`` entries, then the parameters at the run's benchmark.

    Raises:
        ConfigError: a parameter's or a ``param_card_set`` entry is not in the base param_card.
    """
    tdir = opts.templates
    if run_card_template is None:
        run_card_template = cards.template_text("run_card.dat", directory=tdir)
    run_path = _write(cards_dir / "run_card.dat", cards.patch_run_card(run_card_template, _run_settings(opts, run)))
    where = "MG5 wrote"
    if param_card_template is None and opts.param_card is not None:
        param_card_template = _read_base_param_card(opts)
        where = repr(str(opts.param_card))
    param_path = None
    if param_card_template is not None:
        values = {**_fixed_values(card, opts, param_card_template, where), **_param_values(card, run.benchmark)}
        param_path = _write(cards_dir / "param_card.dat", cards.patch_param_card(param_card_template, values))
    else:
        logger.info("%s: no base param_card (give generator.param_card or let MG5 write one)", run.name)
    rw_path = None
    if opts.reweight and card.benchmarks and card.parameters and not run.background:
        tpl = None if tdir is None else cards.template_text("reweight_card.dat", directory=tdir)
        entries = [
            (b.name, [(p.lha_block, p.lha_id, p.card_value(float(b.values.get(p.name, 0.0)))) for p in card.parameters])
            for b in card.benchmarks
        ]
        rw_path = _write(cards_dir / "reweight_card.dat", cards.reweight_card(entries, template=tpl))
    ms_path = None
    if run.decays:
        tpl = None if tdir is None else cards.template_text("madspin_card.dat", directory=tdir)
        ms_path = _write(
            cards_dir / "madspin_card.dat",
            cards.madspin_card(decays=run.decays, seed=run.seed, defines=opts.define, template=tpl),
        )
    return WrittenCards(
        proc_card=cards_dir.parent / "proc_card_mg5.dat",
        run_card=run_path,
        param_card=param_path,
        reweight_card=rw_path,
        madspin_card=ms_path,
    )


@dataclass(frozen=True)
class MG5RunResult:
    """One finished (or card-only) run."""

    name: str
    directory: Path
    lhe: Path | None
    sampled_from: str | None
    background: bool
    xsec_pb: float | None
    xsec_err_pb: float | None
    n_events: int | None
    weight_names: tuple[str, ...] = ()
    delphes: Path | None = None


@dataclass(frozen=True)
class MG5Summary:
    """What :func:`generate_mg5` did."""

    runs: tuple[MG5RunResult, ...]
    manifest: Path | None
    cards_only: bool


def _mg5_program(opts: MG5Options) -> Path:
    if not opts.mg5_home:
        raise ExternalToolError(
            "MG5_aMC not configured: set generator.mg5_home in the card or the MG5_HOME environment variable"
        )
    exe = Path(opts.mg5_home) / "bin" / "mg5_aMC"
    if opts.runtime.engine == "local" and not exe.is_file():
        raise ExternalToolError(
            f"MG5_aMC not found: {str(exe)!r} does not exist (check generator.mg5_home / MG5_HOME)", command=[str(exe)]
        )
    return exe


def _one_run(
    card: AnalysisCard, opts: MG5Options, run: MG5Run, out: Path, *, overwrite: bool, cards_only: bool
) -> MG5RunResult:
    rundir = (out / "mg5" / run.name).resolve()
    rundir.mkdir(parents=True, exist_ok=True)
    tdir = opts.templates
    proc_tpl = None if tdir is None else cards.template_text("proc_card_mg5.dat", directory=tdir)
    _write(
        rundir / "proc_card_mg5.dat",
        cards.proc_card(
            model=opts.model,
            processes=run.process,
            output="process",
            defines=opts.define,
            restrict=opts.restrict,
            template=proc_tpl,
        ),
    )
    reweight = opts.reweight and not run.background and bool(card.benchmarks and card.parameters)
    _write(
        rundir / "launch_commands.mg5", cards.launch_commands("process", reweight=reweight, madspin=bool(run.decays))
    )
    if cards_only:
        write_run_cards(card, opts, run, rundir / "Cards")
        return MG5RunResult(run.name, rundir, None, run.benchmark, run.background, None, None, None)
    exe = _mg5_program(opts)
    run_program(
        [str(exe), "proc_card_mg5.dat"],
        workdir=rundir,
        runtime=opts.runtime,
        step="output",
        log_name="mg5_output.log",
        timeout_s=opts.timeout_s,
    )
    pcards = rundir / "process" / "Cards"
    if not pcards.is_dir():
        raise ExternalToolError(
            f"MG5 wrote no process directory {str(pcards.parent)!r}", command=[str(exe), "proc_card_mg5.dat"]
        )
    own_run = pcards / "run_card.dat"
    own_param = pcards / "param_card.dat"
    write_run_cards(
        card,
        opts,
        run,
        pcards,
        run_card_template=own_run.read_text() if own_run.is_file() and opts.templates is None else None,
        param_card_template=(own_param.read_text() if opts.param_card is None and own_param.is_file() else None),
    )
    run_program(
        [str(exe), "launch_commands.mg5"],
        workdir=rundir,
        runtime=opts.runtime,
        step="launch",
        log_name="mg5_launch.log",
        timeout_s=opts.timeout_s,
    )
    return _collect(card, run, rundir, out, overwrite=overwrite, reweighted=opts.reweight)


def _collect(
    card: AnalysisCard, run: MG5Run, rundir: Path, out: Path, *, overwrite: bool, reweighted: bool
) -> MG5RunResult:
    from ..io.lhe import count_lhe_events, read_lhe_header

    # the newest run folder with events (MadSpin writes run_01_decayed_1 after run_01)
    found = sorted((rundir / "process" / "Events").glob("*/unweighted_events.lhe.gz"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise ExternalToolError(
            f"MG5 finished but wrote no LHE file in {str(rundir / 'process' / 'Events')!r}",
            log_tail=read_tail(rundir / "mg5_launch.log"),
        )
    src = found[-1]
    events = src.parent
    header = read_lhe_header(src)
    if reweighted and not run.background and card.benchmarks:
        missing = [b for b in card.benchmark_names if b not in header.weight_names]
        if missing:
            raise EventFileError(f"{str(src)!r}: MG5 did not write the reweighting weight(s) {missing}")
    target = out / f"{run.name}.lhe.gz"
    with atomic_path(target, overwrite=overwrite) as tmp:
        shutil.copyfile(src, tmp)
    delphes = None
    roots = sorted(events.glob("*delphes_events.root"))  # MG5 ran Delphes itself (delphes=ON)
    if roots:
        delphes = out / f"{run.name}.delphes.root"
        with atomic_path(delphes, overwrite=overwrite) as tmp:
            shutil.copyfile(roots[-1], tmp)
    return MG5RunResult(
        run.name,
        rundir,
        target,
        run.benchmark,
        run.background,
        header.total_xsec_pb,
        float(sum(header.xsec_err_pb)),
        count_lhe_events(target),
        header.weight_names,
        delphes,
    )


def generate_mg5(
    card: AnalysisCard,
    output: str | os.PathLike[str],
    *,
    n_events: int | None = None,
    seed: int | None = None,
    overwrite: bool = False,
    cards_only: bool = False,
    runs: Sequence[str] | None = None,
) -> MG5Summary:
    """Write the MG5 cards of every run, run MG5_aMC and collect the LHE files.

    Args:
        card: the analysis card (``generator: {backend: mg5, ...}``).
        output: output directory: ``RUN.lhe.gz`` per run, ``runs.json``, ``mg5/RUN/`` work directories.
        n_events: events per run (default: the card).
        seed: base seed; run k gets ``seed + k + 1`` (default: the card's per-run seeds).
        overwrite: replace existing LHE files and manifest.
        cards_only: write the cards and stop (no MG5 needed).
        runs: only these runs (default: all).

    Raises:
        ConfigError: invalid section. ExternalToolError: MG5 missing or failing (with its log tail).
    """
    opts = parse_mg5(card, n_events=n_events, seed=seed)
    out = Path(output)
    todo = opts.runs if runs is None else tuple(r for r in opts.runs if r.name in set(runs))
    base = _read_base_param_card(opts)
    if base is not None:  # every entry the cards will set must be there, before anything is written
        _fixed_values(card, opts, base, repr(str(opts.param_card)))
    if not cards_only:
        _mg5_program(opts)  # fail before writing anything
        for r in todo:
            if (out / f"{r.name}.lhe.gz").exists() and not overwrite:
                raise ConfigError(f"output {str(out / (r.name + '.lhe.gz'))!r} exists; pass --overwrite to replace it")
    results = [_one_run(card, opts, r, out, overwrite=overwrite, cards_only=cards_only) for r in todo]
    manifest = None
    if not cards_only:
        manifest = out / "runs.json"
        data = [
            {
                "name": r.name,
                "file": r.lhe.name if r.lhe else None,
                "sampled_from": r.sampled_from,
                "background": r.background,
                "xsec_pb": r.xsec_pb,
                "xsec_err_pb": r.xsec_err_pb,
                "n_events": r.n_events,
                "weights": list(r.weight_names),
                "delphes": r.delphes.name if r.delphes else None,
            }
            for r in results
        ]
        with atomic_path(manifest, overwrite=True) as tmp:
            tmp.write_text(json.dumps({"generator": "mg5", "runs": data}, indent=1) + "\n")
    return MG5Summary(runs=tuple(results), manifest=manifest, cards_only=cards_only)


def samples_from_manifest(manifest: str | os.PathLike[str], *, delphes: bool = False) -> list[Any]:
    """:class:`lhcgold.reconstruct.ReconstructionSample` objects for every run of a ``runs.json`` (generation
    benchmark or background from the manifest), ready for :func:`lhcgold.reconstruct.reconstruct`.

    Args:
        manifest: the ``runs.json`` that :func:`generate_mg5` wrote.
        delphes: use the Delphes files MG5 wrote (``R.delphes.root``, with the LHE for weight names)
            instead of the LHE files.

    Raises:
        EventFileError: the manifest is missing or malformed, or a run has no Delphes file.
    """
    from ..reconstruct import ReconstructionSample

    path = Path(manifest)
    try:
        data = json.loads(path.read_text())
        runs = data["runs"]
    except FileNotFoundError:
        raise EventFileError(f"{str(path)!r}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EventFileError(f"{str(path)!r}: not an MG5 runs manifest: {exc}") from None
    out = []
    for r in runs:
        lhe = path.parent / r["file"]
        src: Path = lhe
        if delphes:
            if not r.get("delphes"):
                raise EventFileError(f"{str(path)!r}: run {r['name']!r} has no Delphes file")
            src = path.parent / r["delphes"]
        out.append(
            ReconstructionSample(
                src,
                sampled_from=None if r.get("background") else r.get("sampled_from"),
                is_background=bool(r.get("background")),
                lhe=lhe if delphes else None,
            )
        )
    return out
