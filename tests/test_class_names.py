"""Every public class name is unique across lhcgold (one ``Grid``, one ``Benchmark``, one ``Sample``...),
so that a name in the docs, a traceback or an import says which class it is."""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lhcgold"
#: MadMiner's class names on top of lhcgold, by design (a migration changes only import lines)
MIRROR = "lhcgold.compat.madminer"


def _public_classes() -> dict[str, list[str]]:
    """Class name -> modules defining it, for every public class at a module's top level (or nested in
    a public class)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                found[node.name].append(module)
                stack.extend(node.body)
            elif isinstance(node, (ast.If, ast.Try)):  # classes defined under TYPE_CHECKING or try/except
                stack.extend(node.body)
    return found


def test_no_two_public_classes_share_a_name() -> None:
    found = _public_classes()
    assert len(found) > 100  # the walk sees the package
    assert {"EventsView", "LimitGrid", "ThetaGrid", "BenchmarkTheta", "ReconstructionSample"} <= set(found)
    for inside_mirror in (False, True):
        mods_by_name = {
            name: [m for m in mods if m.startswith(MIRROR) == inside_mirror] for name, mods in found.items()
        }
        dupes = {name: mods for name, mods in mods_by_name.items() if len(mods) > 1}
        assert not dupes, f"public class names defined more than once: {dupes}"


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("lhcgold.augment", "Benchmark", "BenchmarkTheta"),
        ("lhcgold.augment", "Grid", "ThetaGrid"),
        ("lhcgold.augment.thetas", "Benchmark", "BenchmarkTheta"),
        ("lhcgold.infer", "Grid", "LimitGrid"),
        ("lhcgold.infer.grid", "Grid", "LimitGrid"),
        ("lhcgold.infer", "Sample", "EventsView"),
        ("lhcgold.reconstruct", "Sample", "ReconstructionSample"),
        ("lhcgold.runtime", "RunResult", "ProgramResult"),
    ],
)
def test_renamed_classes_keep_a_deprecated_alias(module: str, old: str, new: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is deprecated.*{new}"):
        cls = getattr(mod, old)
    assert cls.__name__ == new
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no attribute 'Nope'"):
            mod.Nope  # noqa: B018
