"""A task's annotations read into a `Plan`, and the plan applied to its inputs and outputs.

Reading never imports a validation library unless an annotation comes from it: a class is
recognised by the modules along its MRO (`dataframely...`, `pydiverse.colspec...`). What is
recognised but cannot be honoured (a frame without a schema, a schema nested where tabledag
cannot find its tables, an annotation string that names a schema but does not resolve) is a
`DeclarationError`, never a silent pass-through.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DeclarationError, TableValidationError
from ..outputs import Table, TableRef, normalize_name
from ..tree import map_tree
from .kinds import DatabaseFilter, Kind, Outcome, TableOutcome, show_rows

logger = logging.getLogger("tabledag.validation")

MODES = ("fail", "warn", "off")
"""`fail` (the default): a failed check fails the task. `warn`: it is logged and the task goes
on with every row (cast where the cast works). `off`: nothing is checked; annotated inputs are
still read as the frame type the annotation names."""

_FAMILIES = {"dataframely": "dataframely", "pydiverse.colspec": "colspec"}
"""Top-level module of a recognised annotation -> the tabledag.validation module reading it."""
_NAMED = re.compile(
    r"\b(dy|dataframely|cs|colspec)\.|(?<![\w.])\w*(Schema|ColSpec|Spec)\b|(?<![\w.])\w+Collection\b"
)
"""An annotation string that, unresolved, may name a schema: it must resolve."""


@dataclass(frozen=True)
class Each:
    """A kind applied to every table inside a container (`list[...]`, `X | None`, ...)."""

    kind: Kind


@dataclass(frozen=True)
class Positional:
    """`tuple[A, B]`: one shape per position (None where nothing is checked)."""

    shapes: tuple[Any, ...]


Shape = Kind | Each | Positional


@dataclass
class Plan:
    """What a task's annotations ask for: per parameter a shape and the frame type its tables
    are read as; for the return value a shape."""

    task: str
    signature: inspect.Signature
    params: dict[str, Shape]
    types: dict[str, Any]
    """parameter -> frame type its tables are read as."""
    returns: Shape | None
    copies: dict[str, Any]
    """parameter -> polars frame type its tables are checked as, where the task declares
    another `input_type` (ibis, SQLAlchemy, pandas...): the task gets its type, uncast."""
    unchecked: frozenset[str] = frozenset()
    """Parameters of a lazy task that asks for queries (ibis, SQLAlchemy, ...): their tables
    are not read or checked (that would pull the query's inputs through Python, and pipedag
    does not check them either); the query's result is checked once written."""

    def inputs(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        retrieve: Callable[[TableRef, Any], Any],
        default: Any,
        mode: str,
        where: str,
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The task's arguments with tables read (annotated ones as their kind says, checked
        unless `mode` is off; the others as `default`, or left as references if None)."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as error:
            raise DeclarationError(f"{where}: {error}") from None
        for name, value in bound.arguments.items():
            shape = self.params.get(name)
            if name in self.unchecked:
                value = map_tree(
                    value, functools.partial(_read, retrieve, self.types[name]), _is_ref
                )
            elif shape is None:
                if default is not None:
                    value = map_tree(value, lambda ref: retrieve(ref, default), _is_ref)
            else:
                as_type, copy = self.types[name], self.copies.get(name)
                context = _Context(self, name, mode, where, retrieve, as_type, copy)
                variadic = self.signature.parameters[name].kind
                if variadic is inspect.Parameter.VAR_POSITIONAL:  # the shape of each one
                    value = tuple(context.apply(shape, v) for v in value)
                elif variadic is inspect.Parameter.VAR_KEYWORD:
                    value = {k: context.apply(shape, v) for k, v in value.items()}
                else:
                    value = context.apply(shape, value)
            bound.arguments[name] = value
        return bound.args, bound.kwargs

    def outputs(
        self,
        returned: Any,
        *,
        stage: str,
        mode: str,
        where: str,
        name_of: Callable[[Any], str | None] = lambda value: None,
    ) -> tuple[Any, dict[int, Kind]]:
        """What the task returned, checked (and cast) by its return annotation, and the
        tables to check once written (id of the table's object -> kind): queries, which only
        the database can run. `name_of` gives the name a bare object carries (a pdt alias)."""
        if self.returns is None or (mode == "off" and not _has_collection(self.returns)):
            return returned, {}
        outputs = _Outputs(self, stage, mode, where, name_of)
        return outputs.visit(self.returns, returned, ()), outputs.pending

    def check_written(
        self,
        written: Sequence[tuple[Kind, TableRef]],
        *,
        retrieve: Callable[[TableRef, Any], Any],
        mode: str,
        where: str,
    ) -> None:
        """Check outputs as written (read back as polars): the tables this run wrote (a
        cache hit was checked when it was written)."""
        for kind, ref in written:
            data = retrieve(ref, kind.input_type(None))
            outcome = kind.check(data, _label(ref), cast_to=None)
            if outcome.failed:
                what = "output table (checked as written, uncast)"
                _settle(outcome, kind, mode, where, self.task, what, go_on=False)

    def settle_filtered(
        self,
        kind: Kind,
        ref: TableRef,
        counts: Mapping[str, Any],
        total: int,
        examples: Any,
        *,
        mode: str,
        where: str,
    ) -> None:
        """Fail (or warn) for a table the database filtered (`Kind.database_filter`): its
        valid rows are written as `ref`, the unfiltered ones as `_raw_<name>`."""
        invalid = int(counts.get(DatabaseFilter.INVALID) or 0)
        if not invalid:
            return
        rules = {rule: int(n) for rule, n in counts.items() if rule != DatabaseFilter.INVALID and n}
        import polars as pl

        shown = show_rows(pl.from_arrow(examples))
        table = TableOutcome(invalid, total, rules, None, shown)
        outcome = Outcome(None, {_label(ref): table}, list)
        what = (
            f"output table (checked in the database; warned, {ref.name!r} holds the valid rows)"
            if mode == "warn"
            else "output table (checked in the database)"
        )
        _settle(outcome, kind, mode, where, self.task, what, go_on=False)


def _read(retrieve: Callable[[TableRef, Any], Any], as_type: Any, ref: TableRef) -> Any:
    return retrieve(ref, as_type)


def _is_ref(value: Any) -> bool:
    return isinstance(value, TableRef)


def _has_collection(shape: Shape) -> bool:
    if isinstance(shape, Positional):
        return any(s is not None and _has_collection(s) for s in shape.shapes)
    return (shape.kind if isinstance(shape, Each) else shape).collection


# -- reading ----------------------------------------------------------------------------------


def read_annotations(
    fn: Callable[..., Any], task: str, input_type: Any, lazy: bool = False
) -> Plan | None:
    """The plan for `fn`'s annotations, or None when none of them names a schema."""
    raw = getattr(fn, "__annotations__", None) or {}
    params: dict[str, Shape] = {}
    returns: Shape | None = None
    for name, annotation in raw.items():
        where = f"task {task!r}: " + (
            "its return value" if name == "return" else f"parameter {name!r}"
        )
        resolved = _resolve(annotation, fn, where)
        shape = _shape(resolved, where) if resolved is not None else None
        if shape is None:
            continue
        if name == "return":
            returns = shape
        else:
            params[name] = shape
    if not params and returns is None:
        return None
    signature = inspect.signature(fn)
    types_: dict[str, Any] = {}
    copies: dict[str, Any] = {}
    unchecked: set[str] = set()
    for name, shape in params.items():
        kind = _single_kind(shape, f"task {task!r}: parameter {name!r}")
        try:
            types_[name] = kind.input_type(input_type)
        except DeclarationError as error:
            raise DeclarationError(f"task {task!r}: parameter {name!r} is {error}") from None
        if types_[name] is None and lazy:  # a query over the input: no copy is read
            types_[name] = input_type
            unchecked.add(name)
        elif types_[name] is None:  # e.g. input_type=pandas.DataFrame: check a polars copy
            types_[name], copies[name] = input_type, kind.input_type(None)
    return Plan(task, signature, params, types_, returns, copies, frozenset(unchecked))


def _resolve(annotation: Any, fn: Callable[..., Any], where: str) -> Any:
    """An annotation as an object; None for a string that neither resolves nor names a schema."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, getattr(fn, "__globals__", {}), {})
    except Exception as error:
        if _NAMED.search(annotation):
            raise DeclarationError(
                f"{where} is annotated {annotation!r}, which does not resolve "
                f"({type(error).__name__}: {error}); tabledag reads dataframely / colspec "
                "annotations to validate tables, so import the schema at module level (not "
                "only under TYPE_CHECKING)"
            ) from None
        return None


def _family(annotation: Any) -> str | None:
    """The tabledag.validation module for a recognised annotation, None if not recognised."""
    target = typing.get_origin(annotation) or annotation
    if not inspect.isclass(target):
        target = type(target)
        if target.__module__ in ("typing", "types", "builtins"):
            return None
    for cls in inspect.getmro(target):
        top = cls.__module__.split(".")
        for prefix, family in _FAMILIES.items():
            if ".".join(top[: prefix.count(".") + 1]) == prefix:
                return family
    return None


def _kind(annotation: Any, where: str) -> Kind | None:
    family = _family(annotation)
    if family is None:
        return None
    try:
        module = importlib.import_module(f"tabledag.validation.{family}")
    except ImportError as error:
        raise DeclarationError(
            f"{where} is annotated with a {family} schema, but {family} cannot be imported "
            f"({error}); pip install 'tabledag[{family}]'"
        ) from error
    kind: Kind = module.kind(annotation, where)
    return kind


_EACH = (list, tuple, set, frozenset, dict, Sequence, Mapping, typing.Union, types.UnionType)


def _shape(annotation: Any, where: str) -> Shape | None:
    kind = _kind(annotation, where)
    if kind is not None:
        return kind
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _shape(args[0], where)
    inner = [a for a in args if a is not Ellipsis and not isinstance(a, list)]
    shapes = [_shape(a, where) for a in inner]
    if not any(s is not None for s in shapes):
        return None
    if origin is tuple and Ellipsis not in args:
        return Positional(tuple(shapes))
    found = [s for s in shapes if s is not None]
    if origin in _EACH and len(found) == 1 and isinstance(found[0], Kind):
        if found[0].collection:
            raise DeclarationError(
                f"{where} nests the collection {found[0].label} in {annotation!r}; tabledag "
                "validates a collection passed (or returned) as a mapping of member -> table: "
                "annotate with the collection itself"
            )
        return Each(found[0])
    raise DeclarationError(
        f"{where} is annotated {annotation!r}, which names a schema where tabledag cannot tell "
        "which tables it applies to; use the schema directly, in a list / dict / tuple / "
        "Optional, or remove it"
    )


def _single_kind(shape: Shape, where: str) -> Kind:
    if isinstance(shape, Kind):
        return shape
    if isinstance(shape, Each):
        return shape.kind
    kinds = _kinds(shape)
    if len({k.input_type(None) for k in kinds}) == 1:
        return kinds[0]
    raise DeclarationError(
        f"{where} is a tuple of differently read tables; annotate each as its own parameter"
    )


def _kinds(shape: Shape) -> list[Kind]:
    if isinstance(shape, Kind):
        return [shape]
    if isinstance(shape, Each):
        return [shape.kind]
    return [k for s in shape.shapes if s is not None for k in _kinds(s)]


# -- applying ---------------------------------------------------------------------------------


def _label(ref: TableRef) -> str:
    return f"{ref.stage}.{ref.name}"


@dataclass
class _Context:
    plan: Plan
    param: str
    mode: str
    where: str
    retrieve: Callable[[TableRef, Any], Any]
    as_type: Any
    copy: Any = None
    """The polars type a table is checked as when the task gets another type (`as_type`)."""

    def apply(self, shape: Shape | None, value: Any) -> Any:
        if shape is None:
            return value
        if isinstance(shape, Each):
            return map_tree(value, lambda ref: self.one(shape.kind, ref), _is_ref)
        if isinstance(shape, Positional):
            if not isinstance(value, list | tuple) or len(value) != len(shape.shapes):
                raise self.not_tables(shape, value)
            items = [self.apply(s, v) for s, v in zip(shape.shapes, value, strict=True)]
            return type(value)(items)
        if shape.collection:
            return self.collection(shape, value)
        if value is None:
            return None
        if not isinstance(value, TableRef):
            raise self.not_tables(shape, value)
        return self.one(shape, value)

    def one(self, kind: Kind, ref: TableRef) -> Any:
        if self.copy is not None:  # check a polars copy; the task gets its own type, uncast
            if self.mode != "off":
                copy = self.retrieve(ref, self.copy)
                self.settle(kind, kind.check(copy, _label(ref), cast_to=self.copy))
            return self.retrieve(ref, self.as_type)
        data = self.retrieve(ref, self.as_type)
        if self.mode == "off":
            return data
        return self.settle(kind, kind.check(data, _label(ref), cast_to=self.as_type))

    def collection(self, kind: Kind, value: Any) -> Any:
        refs = kind.members(value) if not isinstance(value, TableRef) else None
        if not refs or not all(isinstance(v, TableRef) for v in refs.values()):
            raise self.not_tables(kind, value)
        tables = {m: _label(ref) for m, ref in refs.items()}
        if self.copy is not None:  # members checked as polars copies; the task gets its types
            if self.mode != "off":
                copies = {m: self.retrieve(ref, self.copy) for m, ref in refs.items()}
                self.settle(kind, kind.check(copies, tables, cast_to=self.copy))
            return map_tree(value, lambda ref: self.retrieve(ref, self.as_type), _is_ref)
        data = {m: self.retrieve(ref, self.as_type) for m, ref in refs.items()}
        if self.mode == "off":
            return data
        return kind.wrap(self.settle(kind, kind.check(data, tables, cast_to=self.as_type)))

    def settle(self, kind: Kind, outcome: Outcome) -> Any:
        if not outcome.failed:
            return outcome.valid
        what = f"input {'collection' if kind.collection else 'table'} of parameter {self.param!r}"
        return _settle(outcome, kind, self.mode, self.where, self.plan.task, what)

    def not_tables(self, shape: Shape, value: Any) -> DeclarationError:
        wants = (
            "a mapping of member name -> table output"
            if isinstance(shape, Kind) and shape.collection
            else "table outputs of other tasks"
        )
        return DeclarationError(
            f"{self.where}: parameter {self.param!r} is annotated {shape!r}, which needs "
            f"{wants}, but receives {type(value).__qualname__} {_short(value)}"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _settle(
    outcome: Outcome, kind: Kind, mode: str, where: str, task: str, what: str, go_on: bool = True
) -> Any:
    """Fail, or log and go on, for a check that found invalid rows or columns."""
    lines = [f"{where}: {what} fails validation with {kind.label}:"]
    failures: dict[str, dict[str, int]] = {}
    for table, result in outcome.tables.items():
        if not result.failed:
            continue
        failures[table] = dict(result.counts)
        if result.problem is not None:
            lines.append(f"  table {table}: {result.problem}")
            continue
        rules = ", ".join(f"{rule}: {n}" for rule, n in sorted(result.counts.items()))
        lines.append(
            f"  table {table}: {result.invalid} of {result.total} rows invalid; "
            f"failed rules (rows): {rules}"
        )
        if result.examples:
            lines.append("  first invalid rows:\n" + result.examples)
    if mode == "warn":
        then = "the task goes on with every row" if go_on else "the table is kept as written"
        logger.warning("%s\n(validation: warn, so %s)", "\n".join(lines), then)
        return outcome.lenient() if go_on else None
    lines.append(
        "Fix the data or the schema; `validation: warn` in the instance's config logs this "
        "and goes on instead"
    )
    raise TableValidationError("\n".join(lines), task=task, failures=failures)


@dataclass
class _Outputs:
    plan: Plan
    stage: str
    mode: str
    where: str
    name_of: Callable[[Any], str | None]
    pending: dict[int, Kind] = field(default_factory=dict)
    """Outputs only the database can produce (queries), by id of the query object: checked
    once written."""

    def visit(self, shape: Shape | None, value: Any, path: tuple[Any, ...]) -> Any:
        if shape is None or isinstance(value, TableRef):
            return value
        if isinstance(shape, Positional):
            if not isinstance(value, list | tuple) or len(value) != len(shape.shapes):
                raise DeclarationError(
                    f"{self.where} returned {type(value).__qualname__}, but its return "
                    f"annotation is a tuple of {len(shape.shapes)}"
                )
            items = [
                self.visit(s, v, (*path, i))
                for i, (s, v) in enumerate(zip(shape.shapes, value, strict=True))
            ]
            return type(value)(items)
        if isinstance(shape, Each):
            return self.each(shape.kind, value, path)
        if shape.collection:
            return self.collection(shape, value, path)
        return self.one(shape, value, path)

    def each(self, kind: Kind, value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, dict):
            return {k: self.each(kind, v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
            items = [self.each(kind, v, (*path, i)) for i, v in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        if value is None or isinstance(value, bool | int | float | str | TableRef):
            return value
        return self.one(kind, value, path)

    def name(self, value: Any, path: tuple[Any, ...]) -> str:
        """The table's name as the runner will give it (see `core.execute.collect_tables`)."""
        if isinstance(value, Table) and value.name is not None:
            return value.name
        if not isinstance(value, Table) and (carried := self.name_of(value)) is not None:
            return carried
        return normalize_name("_".join([self.plan.task, *(str(p) for p in path)]))

    def one(self, kind: Kind, value: Any, path: tuple[Any, ...]) -> Any:
        table = value if isinstance(value, Table) else None
        frame = table.obj if table is not None else value
        if self.mode == "off":
            return value
        if not kind.is_frame(frame):
            # pandas, pyarrow, a pdt table on polars: checked and stored as polars
            converted = kind.to_frame(kind.prepare_query(frame))
            if converted is None:  # a query: checked once the database has run it
                self.pending[id(frame)] = kind
                return value
            frame = converted
        label = f"{self.stage}.{self.name(value, path)}"
        outcome = kind.check(frame, label, cast_to=None)
        checked = outcome.valid if not outcome.failed else self.settle(kind, outcome)
        if table is not None:
            return replace(table, obj=checked)
        carried = self.name_of(value)  # a converted pdt table keeps the name it carried
        return Table(checked, name=carried) if carried is not None else checked

    def collection(self, kind: Kind, value: Any, path: tuple[Any, ...]) -> Any:
        members = kind.members(value)
        if members is None:
            raise DeclarationError(
                f"{self.where} returned {type(value).__qualname__}, but its return annotation "
                f"is the collection {kind.label}: return the collection or a mapping of member "
                "name -> polars frame"
            )
        tables = {m: v for m, v in members.items() if isinstance(v, Table)}
        frames = {m: (v.obj if isinstance(v, Table) else v) for m, v in members.items()}
        if self.mode == "off":
            return members
        for m, frame in list(frames.items()):
            if not kind.is_frame(frame):
                converted = kind.to_frame(frame)
                if converted is None:
                    raise DeclarationError(
                        f"{self.where} returned {type(frame).__module__}."
                        f"{type(frame).__qualname__} as member {m!r} of the collection "
                        f"{kind.label}, which tabledag checks on frames only: return polars "
                        "(or pandas / pyarrow) frames for its members"
                    )
                frames[m] = converted
        labels = {m: f"{self.stage}.{self.name(members[m], (*path, m))}" for m in frames}
        outcome = kind.check(frames, labels, cast_to=None)
        checked = outcome.valid if not outcome.failed else self.settle(kind, outcome)
        out = kind.members(checked) or {}
        return {m: replace(tables[m], obj=f) if m in tables else f for m, f in out.items()}

    def settle(self, kind: Kind, outcome: Outcome) -> Any:
        what = "output collection" if kind.collection else "output table"
        return _settle(outcome, kind, self.mode, self.where, self.plan.task, what)
