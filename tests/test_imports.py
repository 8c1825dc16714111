"""Imports inside functions only where they are needed; everything else at the top of the module.

An ``import`` statement may sit inside a function only when

(a) moving it to the top would make the module load a heavy or optional third-party package
    (``HEAVY``) that the module does not load already: the package itself, or an lhcgold module
    that imports it at its top level (computed below from the import graph, and checked against
    real imports in subprocesses); or
(b) it breaks an import cycle, said in a trailing comment ``# cycle: a -> b`` (the cycle is checked
    to exist); or
(c) it loads plug-ins or entry points (``importlib.metadata``, which is in ``HEAVY`` for that reason;
    ``importlib.import_module`` calls are not ``import`` statements and are not checked).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "lhcgold"

# Heavy or optional third-party packages: what `import lhcgold`, the light subpackages (config,
# processes, io) and `lhcgold --help` must not load. Measured with
#   python -X importtime -c "import X" 2>&1 | tail -1   (cumulative, ms, this machine):
# torch 4940, zuko (torch), scipy.stats 3050 (scipy 320), pylhe 2700, vector 1840, uproot 1170,
# matplotlib 960 (mplhep more), awkward 880, hist 500, jsonschema 280, h5py 220, particle 200,
# numpy 150 (kept out of `lhcgold --help`, which loads only click), tqdm 75; optional extras
# (pythia8mc, fastjet, pyhepmc, snakemake, nbformat, nbclient, sklearn) may be missing.
# Light enough for the top: yaml 48, click 72 (the CLI itself), the standard library, except
# importlib.metadata (plug-in discovery only).
HEAVY = frozenset(
    {
        "awkward",
        "fastjet",
        "h5py",
        "hist",
        "importlib.metadata",
        "jsonschema",
        "matplotlib",
        "mplhep",
        "nbclient",
        "nbformat",
        "numpy",
        "particle",
        "pyhepmc",
        "pylhe",
        "pythia8mc",
        "scipy",
        "sklearn",
        "snakemake",
        "torch",
        "tqdm",
        "uproot",
        "vector",
        "zuko",
    }
)

# Entry points whose imports are checked in a subprocess: what they load must include what the
# static import graph says, and the light ones must not load torch or matplotlib.
LIGHT = ("lhcgold", "lhcgold.config", "lhcgold.processes", "lhcgold.io", "lhcgold.cli")
NEVER_LIGHT = ("torch", "matplotlib")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    lines: tuple[str, ...]


@cache
def _modules() -> dict[str, Module]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        text = path.read_text()
        out[name] = Module(name, path, is_package, ast.parse(text), tuple(text.splitlines()))
    return out


def _targets(mod: Module, node: ast.Import | ast.ImportFrom) -> dict[str, bool]:
    """Absolute module names an import statement loads -> whether it needs that module whole.

    ``from pkg import sub`` (a submodule) needs only ``sub``: ``pkg`` may still be initialising;
    ``from pkg import name`` needs ``pkg`` whole. Parent packages are added by ``_with_parents``.
    """
    mods = _modules()
    if isinstance(node, ast.Import):
        return {a.name: True for a in node.names}
    if node.level:
        base = mod.name.split(".") if mod.is_package else mod.name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    subs = {f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in mods}
    whole = len(subs) < len(node.names)
    bound = _bound_names(prefix) if prefix in mods else None
    if bound is not None and any(a.name not in bound for a in node.names):
        # a name served by the package's lazy ``__getattr__``: it may load any of its modules
        subs |= {m for m in mods if m.startswith(prefix + ".")}
    return {prefix: whole, **dict.fromkeys(subs, True)}


@cache
def _bound_names(name: str) -> frozenset[str] | None:
    """Names a module with a lazy ``__getattr__`` binds itself (None: no ``__getattr__``)."""
    tree = _modules()[name].tree
    if not any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body):
        return None
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    return frozenset(bound)


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _runtime_top_level(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: outside functions and `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.orelse:
                    visit(ast.Module(body=[sub], type_ignores=[]))
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _expand(name: str, targets: dict[str, bool]) -> dict[str, bool]:
    """Targets plus their parent packages (and the module's own) as not-needed-whole edges."""
    out = dict.fromkeys(p for t in [*targets, name] for p in _with_parents(t)[:-1])
    out = {p: False for p in out}
    for t, whole in targets.items():
        out[t] = out.get(t, False) or whole
    out.pop(name, None)
    return out


@cache
def _edges() -> dict[str, dict[str, bool]]:
    """lhcgold module -> what its top level imports -> whether it needs that module whole."""
    edges = {}
    for name, mod in _modules().items():
        targets: dict[str, bool] = {}
        for node in _runtime_top_level(mod.tree):
            for t, whole in _targets(mod, node).items():
                targets[t] = targets.get(t, False) or whole
        edges[name] = _expand(name, targets)
    return edges


def _heavy_of(name: str) -> frozenset[str]:
    return frozenset(h for h in HEAVY if name == h or name.startswith(h + "."))


@cache
def _closure(name: str, loading: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every module importing ``name`` loads (itself included), following top-level imports;
    packages ``loading`` (initialising) are passed through only where a name is taken from them."""
    seen, todo = {name}, [name]
    while todo:
        for t, whole in _edges().get(todo.pop(), {}).items():
            if t not in seen and (whole or t not in loading):
                seen.add(t)
                todo.append(t)
    return frozenset(seen)


def _loads_heavy(name: str) -> frozenset[str]:
    """The HEAVY packages importing ``name`` loads (by the static import graph)."""
    return frozenset(h for m in _closure(name) for h in _heavy_of(m))


def _in_functions(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    nodes: dict[int, ast.Import | ast.ImportFrom] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    nodes[id(node)] = node
    return sorted(nodes.values(), key=lambda n: n.lineno)


def _verdict(mod: Module, node: ast.Import | ast.ImportFrom) -> str | None:
    """None when the function-level import is needed there, else why it belongs at the top."""
    targets = _targets(mod, node)
    comment = " ".join(mod.lines[node.lineno - 1 : node.end_lineno])
    if "# cycle:" in comment:
        # the packages holding this module are initialising when it runs
        loading = frozenset(_with_parents(mod.name)[:-1])
        starts = [t for t, whole in _expand(mod.name, targets).items() if whole or t not in loading]
        if any(mod.name in _closure(t, loading) for t in starts if t.startswith("lhcgold")):
            return None
        return "marked `# cycle:` but no target imports this module at its top level"
    avoided = set().union(*(_loads_heavy(t) for t in targets)) - _loads_heavy(mod.name)
    if avoided:
        return None
    return "loads nothing heavy this module does not load already"


def _offenders() -> list[str]:
    out = []
    for mod in _modules().values():
        for node in _in_functions(mod.tree):
            why = _verdict(mod, node)
            if why:
                where = f"{mod.path.relative_to(ROOT)}:{node.lineno}"
                out.append(f"{where}: `{ast.unparse(node)}` {why}")
    return out


def test_function_level_imports_are_needed() -> None:
    offenders = _offenders()
    assert not offenders, (
        f"{len(offenders)} imports inside functions belong at the top of their module "
        "(or say `# cycle: a -> b`):\n" + "\n".join(offenders)
    )


def test_rule_catches_a_habitual_import_and_spares_a_heavy_one() -> None:
    src = (
        "def f():\n    from ..exceptions import ConfigError\n\n"
        "def g():\n    import torch\n\n"
        "def h():\n    from .setupfile import read_setup\n\n"
        "def k():\n    from ..config import card  # cycle: lhcgold.config.card -> lhcgold.io.x\n"
    )
    mod = Module("lhcgold.io.x", PKG / "io" / "x.py", False, ast.parse(src), tuple(src.splitlines()))
    verdicts = [_verdict(mod, node) for node in _in_functions(mod.tree)]
    assert verdicts[0] == "loads nothing heavy this module does not load already"
    assert verdicts[1] is None
    assert verdicts[2] is None  # lhcgold.io.setupfile loads h5py, lhcgold.io does not
    assert verdicts[3] is not None and "cycle" in verdicts[3]  # no such cycle exists


def test_names_from_a_lazy_package_count_as_loading_its_modules() -> None:
    # lhcgold.ml serves Ensemble through __getattr__ from lhcgold.ml.ensemble, which imports torch
    src = "def f():\n    from ..ml import Ensemble\n\ndef g():\n    from ..ml import get_method\n"
    mod = Module("lhcgold.cli.x", PKG / "cli" / "x.py", False, ast.parse(src), tuple(src.splitlines()))
    lazy, bound = _in_functions(mod.tree)
    assert _verdict(mod, lazy) is None
    assert "torch" in set().union(*(_loads_heavy(t) for t in _targets(mod, lazy)))
    assert "torch" not in set().union(*(_loads_heavy(t) for t in _targets(mod, bound)))  # bound in lhcgold.ml


def _loaded(code: str) -> set[str]:
    probe = code + "; import sys; print(' '.join(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(res.stdout.split())


@pytest.mark.parametrize("name", LIGHT)
def test_light_entry_points_load_what_the_graph_says(name: str) -> None:
    loaded = _loaded(f"import {name}")
    heavy_loaded = {h for h in HEAVY if h in loaded}
    assert _loads_heavy(name) <= heavy_loaded, "the static import graph claims imports that do not happen"
    assert not heavy_loaded & set(NEVER_LIGHT), f"`import {name}` loads {sorted(heavy_loaded)}"


def test_cli_help_loads_nothing_heavy() -> None:
    loaded = _loaded("from lhcgold.cli import main; main(['--help'])")
    assert not {h for h in HEAVY if h in loaded}, "`lhcgold --help` must stay fast"


@pytest.mark.slow
def test_every_module_imports_first() -> None:
    """Each lhcgold module imports as the first lhcgold module of a process (no broken cycles)."""
    names = [n for n in _modules() if not n.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for m in [m for m in sys.modules if m == 'lhcgold' or m.startswith('lhcgold.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if (exc.name or '').startswith('lhcgold'):\n"
        "            print(name, repr(exc))\n"
        "    except Exception as exc:\n"
        "        print(name, repr(exc))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert res.stdout == "", res.stdout
