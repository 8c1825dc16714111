"""Safe string expressions for observables and cuts (``ast`` + a whitelist; never ``eval``).

An expression such as ``"(l[0] + a[0]).m"`` or ``"mt(l[0], met) > 40 and n(j) <= 2"`` is parsed
once with :mod:`ast`, checked against a whitelist of node types, names, attributes and functions,
and compiled into a tree of closures that evaluate over whole arrays (one value per event).

Semantics:

* collections (``e``, ``mu``, ``l``, ``a``, ``j``, ``b``, ``v``, ``p``...) are jagged awkward arrays of
  ``Momentum4D`` records sorted by descending p_T; ``met`` and ``visible`` are one object per event;
* ``x[k]`` (a non-negative integer constant) picks the k-th object; a missing object has NaN
  components, so anything computed from it is NaN (and a comparison with it is false);
* attributes: ``pt eta phi m mass e E px py pz p rapidity theta mt et charge btag tautag pid``;
  methods ``x.deltaR(y)``, ``x.deltaphi(y)``, ``x.deltaeta(y)``;
* ``and``/``or``/``not`` act element-wise; ``x if c else y`` is ``where(c, x, y)``;
* functions: the math functions (``abs sqrt exp log log10 sin cos tan arcsin arccos arctan arctan2
  sinh cosh tanh``, ``min``/``max`` element-wise or over a collection), ``n(x)``/``len(x)``,
  ``sum(x)``, ``any``/``all``, ``where``, ``isnan``, ``nan_to(x, v)`` and the library observables
  (``mass mll mt delta_r delta_phi delta_eta cos_theta_star_cs neutrino_pz mt_wh``, and the W H angles
  with the neutrino from the MET and the W mass: ``wh_cos_Theta(l[0], met, h)``,
  ``wh_cos_theta_star(...)``, ``wh_phi_star(...)``, ``wh_mass(...)``, h e.g. ``b[0] + b[1]``).

Limits (checked when the expression is compiled, so a hostile or mistyped card fails at once
instead of hanging): at most ``MAX_LENGTH`` characters, ``MAX_NODES`` syntax nodes and
``MAX_DEPTH`` levels of nesting; numeric literals are finite floats of magnitude at most
``MAX_CONSTANT`` (integers become floats: no unbounded integer arithmetic); a constant exponent
has magnitude at most ``MAX_EXPONENT``, and constant sub-expressions are folded in floating point,
so ``9**9**9**9`` is refused as an overflow; an index ``x[k]`` has ``k < MAX_INDEX``.

Example:
    >>> from lhcgold.observables.expr import compile_expression
    >>> f = compile_expression("sqrt(x**2 + 1)", names={"x"})
    >>> import numpy as np
    >>> f({"x": np.array([0.0, 1.0])}).tolist()
    [1.0, 1.4142135623730951]
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

import awkward as ak
import numpy as np
import vector

from ..exceptions import ConfigError, suggest
from ..processes import process_names
from . import library

vector.register_awkward()

__all__ = ["ATTRIBUTES", "FUNCTIONS", "Expression", "compile_expression", "register_function", "to_numpy"]

Namespace = Mapping[str, Any]
Evaluator = Callable[[Namespace], Any]

MAX_LENGTH = 4000
MAX_NODES = 1000
MAX_DEPTH = 40
MAX_CONSTANT = 1e300
MAX_EXPONENT = 1000.0
MAX_INDEX = 1000


def _is_jagged(x: Any) -> bool:
    return isinstance(x, ak.Array) and x.ndim > 1


def to_numpy(x: Any) -> np.ndarray:
    """A flat numeric array (None -> NaN); booleans stay boolean."""
    if isinstance(x, ak.Array):
        if x.ndim > 1:
            raise ValueError("the expression gives a list per event; pick an element (x[0]) or reduce (sum, max, n)")
        if x.fields:
            raise ValueError("the expression gives an object; take an attribute (e.g. .pt, .m)")
        x = ak.to_numpy(ak.fill_none(x, np.nan))
    return np.asarray(x)


def pick(collection: ak.Array, k: int) -> ak.Array:
    """The k-th object of each event; missing objects have NaN components."""
    fields = collection.fields
    padded = ak.pad_none(collection, k + 1, axis=1)[:, k]
    cols = {f: ak.fill_none(padded[f], np.nan) for f in fields}
    name = ak.parameters(collection.layout.content).get("__record__") if collection.ndim > 1 else None
    return ak.zip(cols, with_name=name or "Momentum4D")


def _reduce(fn: Callable[..., Any], default: float) -> Callable[[Any], Any]:
    def run(x: Any) -> Any:
        if _is_jagged(x):
            return ak.fill_none(fn(x, axis=1), default)
        return x

    return run


def _minmax(reducer: Callable[..., Any], elementwise: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        if len(args) == 1:
            return ak.fill_none(reducer(args[0], axis=1), np.nan)
        out = args[0]
        for a in args[1:]:
            out = elementwise(out, a)
        return out

    return run


def _count(x: Any) -> Any:
    return ak.num(x, axis=1)


def _ufunc(f: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return f(*args)

    return run


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _ufunc(np.abs),
    "sqrt": _ufunc(np.sqrt),
    "exp": _ufunc(np.exp),
    "log": _ufunc(np.log),
    "log10": _ufunc(np.log10),
    "sin": _ufunc(np.sin),
    "cos": _ufunc(np.cos),
    "tan": _ufunc(np.tan),
    "arcsin": _ufunc(np.arcsin),
    "arccos": _ufunc(np.arccos),
    "arctan": _ufunc(np.arctan),
    "arctan2": _ufunc(np.arctan2),
    "sinh": _ufunc(np.sinh),
    "cosh": _ufunc(np.cosh),
    "tanh": _ufunc(np.tanh),
    "asin": _ufunc(np.arcsin),
    "acos": _ufunc(np.arccos),
    "atan": _ufunc(np.arctan),
    "atan2": _ufunc(np.arctan2),
    "isnan": _ufunc(np.isnan),
    "where": _ufunc(np.where),
    "sign": _ufunc(np.sign),
    "nan_to": lambda x, v: np.where(np.isnan(to_numpy(x)), v, to_numpy(x)),
    "min": _minmax(ak.min, np.minimum),
    "max": _minmax(ak.max, np.maximum),
    "n": _count,
    "len": _count,
    "sum": _reduce(ak.sum, 0.0),
    "any": _reduce(ak.any, False),
    "all": _reduce(ak.all, True),
    "mass": library.mass,
    "mll": library.mll,
    "mt": library.mt,
    "delta_r": library.delta_r,
    "delta_phi": library.delta_phi,
    "delta_eta": library.delta_eta,
    "cos_theta_star_cs": library.cos_theta_star_cs,
    "neutrino_pz": library.neutrino_pz,
    "mt_wh": library.mt_wh,
    "rapidity": library.rapidity,
    "wh_cos_Theta": lambda lep, met, h: library.wh_angles_reco(lep, met, h)["cos_Theta"],
    "wh_cos_theta_star": lambda lep, met, h: library.wh_angles_reco(lep, met, h)["cos_theta_star"],
    "wh_phi_star": lambda lep, met, h: library.wh_angles_reco(lep, met, h)["phi_star"],
    "wh_mass": lambda lep, met, h: library.wh_angles_reco(lep, met, h)["m_wh"],
}


def register_function(name: str, fn: Callable[..., Any]) -> None:
    """Make ``fn`` callable as ``name(...)`` in observable and cut expressions.

    Processes declare theirs in ``observable_functions`` (registered with the process); a plug-in
    may call this directly. Arguments are what the expression passes: objects (``l[0]``, ``met``,
    sums of objects) or arrays; the result is one number per event.

    Raises:
        ValueError: ``name`` is not an identifier, is a constant, or names another function already.
    """
    if not name.isidentifier() or name in CONSTANTS:
        raise ValueError(f"cannot register an expression function named {name!r}")
    other = FUNCTIONS.get(name)
    if other is not None and other is not fn:
        raise ValueError(f"expression function {name!r} exists already")
    FUNCTIONS[name] = fn


def _known_function(name: str) -> bool:
    """Whether ``name`` is a function, after loading the processes that may register more."""
    if name not in FUNCTIONS:
        process_names()  # imports every registered process module once
    return name in FUNCTIONS


CONSTANTS: dict[str, float] = {
    "pi": float(np.pi),
    "e_const": float(np.e),
    "nan": float("nan"),
    "inf": float("inf"),
    "True": True,
    "False": False,
}  # type: ignore[dict-item]

ATTRIBUTES: frozenset[str] = frozenset(
    {
        "pt",
        "eta",
        "phi",
        "m",
        "mass",
        "e",
        "E",
        "energy",
        "px",
        "py",
        "pz",
        "p",
        "rapidity",
        "theta",
        "mt",
        "Et",
        "et",
        "charge",
        "btag",
        "tautag",
        "pid",
        "isolation",
        "status",
        "tau",
    }
)
_ATTR_ALIASES = {"et": "Et", "E": "E", "e": "E", "energy": "E", "m": "mass"}
_METHODS: dict[str, Callable[[Any, Any], Any]] = {
    "deltaR": lambda a, b: library.delta_r(a, b),
    "deltaphi": lambda a, b: library.delta_phi(a, b),
    "deltaeta": lambda a, b: library.delta_eta(a, b),
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _attr(obj: Any, name: str) -> Any:
    key = _ATTR_ALIASES.get(name, name)
    if isinstance(obj, ak.Array) and obj.fields and key in obj.fields:
        return obj[key]
    try:
        return getattr(obj, key)
    except AttributeError:
        return getattr(obj, name)


def _logical(values: list[Any], op: Callable[[Any, Any], Any]) -> Any:
    out = to_numpy(values[0]).astype(bool)
    for v in values[1:]:
        out = op(out, to_numpy(v).astype(bool))
    return out


class _Compiler:
    def __init__(self, text: str, names: Collection[str], source: str | None, path: str | None):
        self.text = text
        self.names = set(names)
        self.source = source
        self.path = path
        self.used: set[str] = set()

    def fail(self, message: str, node: ast.AST | None = None) -> ConfigError:
        col = f" (column {node.col_offset + 1})" if node is not None and hasattr(node, "col_offset") else ""
        text = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        return ConfigError(f"in expression {text!r}{col}: {message}", path=self.path, source=self.source)

    def constant(self, node: ast.Constant) -> float:
        """A numeric literal as a bounded, finite float."""
        try:
            value = float(node.value)
        except OverflowError:
            value = float("inf")
        if not np.isfinite(value) or abs(value) > MAX_CONSTANT:
            v = node.value
            big = isinstance(v, int) and v.bit_length() > 90
            text = f"of about 10**{int(v.bit_length() * 0.30103)}" if big else str(v)
            raise self.fail(f"constant {text} is too large (at most {MAX_CONSTANT:g} in magnitude)", node)
        return value

    def fold(self, node: ast.AST) -> float | None:
        """The value of a constant sub-expression in floating point (None if it uses data)."""
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return self.constant(node)
        if isinstance(node, ast.Name) and node.id not in self.names and node.id in CONSTANTS:
            return float(CONSTANTS[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.fold(node.operand)
            return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            a = self.fold(node.left)
            b = self.fold(node.right) if a is not None else None
            if a is None or b is None:
                return None
            if isinstance(node.op, ast.Pow):
                self.check_exponent(b, node)
            try:
                with np.errstate(all="ignore"):
                    value = float(_BINOPS[type(node.op)](a, b))
            except OverflowError:
                raise self.fail("constant expression overflows", node) from None
            except (ZeroDivisionError, ValueError):
                return float("nan")
            if np.isinf(value) and np.isfinite(a) and np.isfinite(b):
                raise self.fail("constant expression overflows", node)
            return value
        return None

    def check_exponent(self, value: float, node: ast.AST) -> None:
        if np.isfinite(value) and abs(value) > MAX_EXPONENT:
            raise self.fail(f"exponent {value:g} is too large (at most {MAX_EXPONENT:g} in magnitude)", node)

    def check_power(self, node: ast.BinOp) -> None:
        """Bound a constant exponent (and fold an all-constant power) before anything runs."""
        exponent = self.fold(node.right)
        if exponent is not None:
            self.check_exponent(exponent, node)
            self.fold(node)

    def compile(self, node: ast.AST) -> Evaluator:  # noqa: C901 - one branch per node type
        if isinstance(node, ast.Expression):
            return self.compile(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                flag = node.value
                return lambda ns: flag
            if isinstance(node.value, (int, float)):
                value = self.constant(node)
                return lambda ns: value
            raise self.fail(f"constant {node.value!r} is not a number", node)
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.names:
                self.used.add(name)
                return lambda ns: ns[name]
            if name in CONSTANTS:
                value = CONSTANTS[name]
                return lambda ns: value
            choices = sorted(self.names | set(CONSTANTS))
            raise self.fail(f"unknown name {name!r}{suggest(name, choices)}; known: {', '.join(choices)}", node)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.fail(f"operator {type(node.op).__name__} is not allowed", node)
            if isinstance(node.op, ast.Pow):
                self.check_power(node)
            self.fold(node)  # a constant sub-expression that overflows is refused now
            left, right = self.compile(node.left), self.compile(node.right)

            def binop(ns: Namespace) -> Any:
                with np.errstate(all="ignore"):
                    return op(left(ns), right(ns))

            return binop
        if isinstance(node, ast.UnaryOp):
            operand = self.compile(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda ns: -operand(ns)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not):
                return lambda ns: ~to_numpy(operand(ns)).astype(bool)
            raise self.fail(f"operator {type(node.op).__name__} is not allowed", node)
        if isinstance(node, ast.BoolOp):
            parts = [self.compile(v) for v in node.values]
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return lambda ns: _logical([p(ns) for p in parts], fn)
        if isinstance(node, ast.Compare):
            left = self.compile(node.left)
            ops = []
            for o in node.ops:
                f = _CMPOPS.get(type(o))
                if f is None:
                    raise self.fail(f"comparison {type(o).__name__} is not allowed", node)
                ops.append(f)
            rights = [self.compile(c) for c in node.comparators]

            def compare(ns: Namespace) -> Any:
                a = left(ns)
                out: Any = None
                for f, r in zip(ops, rights):
                    b = r(ns)
                    with np.errstate(invalid="ignore"):
                        res = to_numpy(f(a, b)) if not _is_jagged(a) and not _is_jagged(b) else f(a, b)
                    out = res if out is None else np.logical_and(out, res)
                    a = b
                return out

            return compare
        if isinstance(node, ast.IfExp):
            test, body, orelse = self.compile(node.test), self.compile(node.body), self.compile(node.orelse)
            return lambda ns: np.where(to_numpy(test(ns)).astype(bool), to_numpy(body(ns)), to_numpy(orelse(ns)))
        if isinstance(node, ast.Subscript):
            index = node.slice
            if not (
                isinstance(index, ast.Constant)
                and isinstance(index.value, int)
                and not isinstance(index.value, bool)
                and index.value >= 0
            ):
                raise self.fail("only a non-negative integer index is allowed (x[0], x[1], ...)", node)
            k = index.value
            if k >= MAX_INDEX:
                raise self.fail(f"index {k} is too large (at most {MAX_INDEX - 1})", node)
            value = self.compile(node.value)
            return lambda ns: pick(value(ns), k)
        if isinstance(node, ast.Attribute):
            if node.attr not in ATTRIBUTES:
                raise self.fail(
                    f"attribute {node.attr!r} is not allowed{suggest(node.attr, ATTRIBUTES)}; "
                    f"allowed: {', '.join(sorted(ATTRIBUTES))}",
                    node,
                )
            value = self.compile(node.value)
            attr = node.attr
            return lambda ns: _attr(value(ns), attr)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and not _known_function(node.func.id):
                fname = node.func.id
                raise self.fail(f"unknown function {fname!r}{suggest(fname, FUNCTIONS)}", node)
            if isinstance(node.func, ast.Attribute) and node.func.attr not in _METHODS:
                self.compile(node.func.value)  # report problems inside first
                raise self.fail(f"method {node.func.attr!r} is not allowed; allowed: {', '.join(_METHODS)}", node)
            if node.keywords:
                raise self.fail("keyword arguments are not allowed", node)
            args = [self.compile(a) for a in node.args]
            if isinstance(node.func, ast.Name):
                fn = FUNCTIONS[node.func.id]
                return lambda ns: fn(*[a(ns) for a in args])
            if isinstance(node.func, ast.Attribute) and node.func.attr in _METHODS:
                if len(args) != 1:
                    raise self.fail(f"{node.func.attr}() takes one argument", node)
                method = _METHODS[node.func.attr]
                obj = self.compile(node.func.value)
                return lambda ns: method(obj(ns), args[0](ns))
            raise self.fail("only whitelisted functions and the methods deltaR/deltaphi/deltaeta may be called", node)
        raise self.fail(f"{type(node).__name__} is not allowed in an expression", node)


class Expression:
    """A compiled expression: call it with a namespace mapping names to arrays.

    Attributes:
        text: the source text; names: the namespace names it uses.
    """

    def __init__(self, text: str, evaluator: Evaluator, names: frozenset[str]):
        self.text = text
        self._evaluator = evaluator
        self.names = names

    def __call__(self, namespace: Namespace) -> Any:
        return self._evaluator(namespace)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _check_size(tree: ast.AST, text: str, *, source: str | None, path: str | None) -> None:
    """At most MAX_NODES nodes and MAX_DEPTH levels (iteratively: no recursion on hostile input)."""
    short = text if len(text) <= 60 else text[:57] + "..."
    n_nodes = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        n_nodes += 1
        if n_nodes > MAX_NODES:
            raise ConfigError(
                f"expression {short!r} is too large (more than {MAX_NODES} terms)", path=path, source=source
            )
        if depth > MAX_DEPTH:
            raise ConfigError(
                f"expression {short!r} is nested too deeply (more than {MAX_DEPTH} levels)", path=path, source=source
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def compile_expression(
    text: str, *, names: Collection[str], source: str | None = None, path: str | None = None
) -> Expression:
    """Parse and check an expression; the result evaluates over whole arrays.

    Args:
        text: the expression.
        names: the names it may use (collections, objects, observables).
        source, path: where it came from (for error messages).

    Raises:
        ConfigError: syntax errors, unknown names, disallowed constructs.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"expression must be a non-empty string, not {text!r}", path=path, source=source)
    if len(text) > MAX_LENGTH:
        raise ConfigError(
            f"expression {text[:40]!r}... is too long ({len(text)} characters, at most {MAX_LENGTH})",
            path=path,
            source=source,
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"syntax error in expression {text!r}: {exc.msg}", path=path, source=source) from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise ConfigError(f"in expression {text[:40]!r}: {exc}", path=path, source=source) from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"expression {text[:40]!r}... is nested too deeply", path=path, source=source) from None
    _check_size(tree, text, source=source, path=path)
    comp = _Compiler(text, names, source, path)
    evaluator = comp.compile(tree)
    return Expression(text, evaluator, frozenset(comp.used))
