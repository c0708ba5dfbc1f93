"""The machinery shared by every concept class: validation, equality, repr, tree.

The classes themselves are generated from ``concepts/*.toml`` into ``_concepts.py``;
this module interprets their ``_fields`` declarations.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar

from aorist.errors import DeclarationError, DuplicateNameError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# A source asset: "asset" (same dataset) or "dataset.asset".
SOURCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
# PostgreSQL truncates identifiers at 63 bytes; every engine aorist targets accepts that.
MAX_IDENTIFIER = 63
# Ints cross into the Rust core as i64.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Field:
    """One declared field: its name, declared type, default expression and bounds."""

    name: str
    type: str
    default: str | None = None
    min: int | None = None


_construct = type.__call__  # a module global: faster than super().__call__ per concept


class ConceptType(type):
    """Turns the TypeErrors of a bad call into DeclarationErrors; refuses family classes.

    A family (``Storage``, ``Encoding``, ``Attribute``, ...) only names what its classes
    have in common: constructing one directly is a mistake, reported with its classes.
    """

    _abstract: bool

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> None:
        super().__init__(name, bases, namespace)
        cls._abstract = not bases or "_family" in namespace

    @property
    def __signature__(cls) -> inspect.Signature:
        """The signature of the class's `__init__` (not of `__call__` here)."""
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls._abstract:
            raise DeclarationError(_abstract_message(cls))
        try:
            return _construct(cls, *args, **kwargs)
        except TypeError as error:
            problem = _call_problem(cls, args, kwargs)
            if problem is None:
                raise
            raise DeclarationError(problem) from error


def _abstract_message(cls: type) -> str:
    if cls is Concept:
        return (
            "Concept: is the base of every concept, not a concept to construct; "
            "fix: construct a concept class such as Universe, DataSet or StaticDataTable"
        )
    members = sorted(
        name
        for name, other in vars(_concepts()).items()
        if isinstance(other, type)
        and issubclass(other, cls)
        and not getattr(other, "_abstract", True)
    )
    return (
        f"{cls.__name__}: is a family of concepts, not a concept to construct; "
        f"fix: construct one of its classes: {', '.join(members) or 'none is declared'}"
    )


def _call_problem(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """What is wrong with calling `cls(*args, **kwargs)`, or None if the call binds."""
    try:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
        signature.bind(None, *args, **kwargs)
    except TypeError:
        pass
    else:
        return None
    parameters = [
        p
        for p in list(signature.parameters.values())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    names = [p.name for p in parameters]
    valid = ", ".join(names) or "none"
    label = cls.__name__
    given_name = kwargs.get("name", args[0] if args and names[:1] == ["name"] else None)
    if isinstance(given_name, str):
        label = f"{label} {given_name!r}"
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        close = difflib.get_close_matches(unknown[0], names, n=1)
        fix = (
            f"write {close[0]!r} instead (the arguments of {cls.__name__} are: {valid})"
            if close
            else f"use the arguments of {cls.__name__}: {valid}"
        )
        return f"{label}: there is no argument {unknown[0]!r}; fix: {fix}"
    positional = [p.name for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD]
    if len(args) > len(positional):
        return (
            f"{label}: {len(args)} positional arguments given, {cls.__name__} takes at most "
            f"{len(positional)} ({', '.join(positional) or 'none'}); "
            f"fix: pass the arguments by keyword: {valid}"
        )
    twice = [n for n in positional[: len(args)] if n in kwargs]
    if twice:
        return (
            f"{label}: argument {twice[0]!r} is given both by position and by keyword; "
            "fix: pass it once"
        )
    given = set(positional[: len(args)]) | set(kwargs)
    missing = [p.name for p in parameters if p.default is p.empty and p.name not in given]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        plural = "s" if len(missing) > 1 else ""
        return (
            f"{label}: missing required argument{plural} {listed}; "
            f"fix: pass {', '.join(f'{m}=...' for m in missing)} "
            f"(the arguments of {cls.__name__} are: {valid})"
        )
    return None


class Concept(metaclass=ConceptType):
    """Base of every concept: keyword construction, validation, value equality."""

    _family: ClassVar[str | None] = None
    _fields: ClassVar[tuple[Field, ...]] = ()
    _unique: ClassVar[tuple[tuple[str, str], ...]] = ()

    def _init(self, **values: Any) -> None:
        for field in self._fields:
            value = values[field.name]
            if value is None and field.default not in (None, "None"):
                value = _default(field.default)
            value = self._coerce(field, value)
            value = _check(self, field.name, field.type, value, field.min)
            object.__setattr__(self, field.name, value)
        for list_field, key in self._unique:
            _check_unique(self, list_field, key)
        self._check_references()

    def _coerce(self, field: Field, value: Any) -> Any:
        """Hook for mixins that accept extra input shapes (a dict of assets, say)."""
        return value

    def _check_references(self) -> None:
        """Hook for mixins that check the names one field refers to in another."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise DeclarationError(
            f"{self._label()}.{name}: concepts are immutable once constructed; "
            f"fix: construct a new {type(self).__name__} with the value you want"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]  # concepts hold lists: compare, don't hash

    def __repr__(self) -> str:
        parts = []
        for field in self._fields:
            value = getattr(self, field.name)
            if field.default is not None and value == _default(field.default):
                continue
            parts.append(f"{field.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _label(self) -> str:
        name = self.__dict__.get("name")
        cls = type(self).__name__
        return f"{cls} {name!r}" if isinstance(name, str) else cls

    def to_tree(self) -> dict[str, Any]:
        """The concept as plain data: what crosses into the Rust core."""
        tree: dict[str, Any] = {}
        if self._family is not None:
            tree["kind"] = type(self).__name__
        for field in self._fields:
            tree[field.name] = _to_tree(getattr(self, field.name))
        return tree

    def to_json(self) -> str:
        """`json.dumps(self.to_tree())`, built one list element at a time.

        A universe of 100,000 tables is a tree of millions of dicts; serialising each
        element of a list of concepts on its own keeps only one element's tree alive.
        """
        parts = []
        if self._family is not None:
            parts.append(f'"kind": {encode_basestring_ascii(type(self).__name__)}')
        for field in self._fields:
            value = getattr(self, field.name)
            if isinstance(value, list) and value and all(isinstance(v, Concept) for v in value):
                text = "[" + ", ".join(v.to_json() for v in value) + "]"
            else:
                text = json.dumps(_to_tree(value))
            parts.append(f"{encode_basestring_ascii(field.name)}: {text}")
        return "{" + ", ".join(parts) + "}"


def _to_tree(value: Any) -> Any:
    if isinstance(value, Concept):
        return value.to_tree()
    if isinstance(value, list):
        return [_to_tree(v) for v in value]
    return value


@functools.cache
def _concepts() -> Any:
    """The generated concept module (imported late: it imports this one)."""
    from aorist import _concepts as module

    return module


def _default(expression: str) -> Any:
    if expression == "[]":
        return []
    return eval(expression, vars(_concepts()))  # noqa: S307 - expressions come from concepts.toml


def _check(owner: Concept, path: str, type_: str, value: Any, minimum: int | None) -> Any:

    def where() -> str:  # only errors need it: formatting it per field was a fifth of the time
        return f"{owner._label()}.{path}"

    if type_.startswith("optional["):
        if value is None:
            return None
        return _check(owner, path, type_[9:-1], value, minimum)
    if type_.startswith("list["):
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise DeclarationError(
                f"{where()}: expected a list, got {type(value).__name__} {value!r}; "
                f"fix: pass a list of {type_[5:-1]}"
            )
        inner = type_[5:-1]
        try:
            return [_check(owner, f"{path}[{i}]", inner, v, minimum) for i, v in enumerate(value)]
        except DeclarationError:
            # Only a failed check looks for the cause no element check can name.
            for i, v in enumerate(value):
                if v is value:
                    raise DeclarationError(
                        f"{where()}[{i}]: the list contains itself; "
                        f"fix: pass a list of {inner} that does not contain the list"
                    ) from None
            raise
    if type_ in ("str", "identifier", "env_var", "sha256"):
        if not isinstance(value, str):
            raise DeclarationError(
                f"{where()}: expected a string, got {type(value).__name__} {value!r}; "
                "fix: pass a str"
            )
        nul = value.find("\x00")
        if nul >= 0:
            raise DeclarationError(
                f"{where()}: {value!r} contains a NUL character at position {nul}, "
                "which no file path, SQL string or R string can hold; fix: remove it"
            )
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError as error:
                raise DeclarationError(
                    f"{where()}: {value!r} contains a lone surrogate "
                    f"{value[error.start]!r} at position {error.start}, which is not "
                    "Unicode text and cannot be written as UTF-8; fix: pass valid text "
                    "(decode bytes with errors='replace', or fix the source of the string)"
                ) from None
        if type_ in ("identifier", "env_var") and not IDENTIFIER.fullmatch(value):
            suggestion = re.sub(r"\W", "_", value)
            if not suggestion or suggestion[0].isdigit():
                suggestion = "_" + suggestion
            kind = "an identifier" if type_ == "identifier" else "an environment variable name"
            raise DeclarationError(
                f"{where()}: {value!r} is not {kind} (letters, digits and underscores, "
                f"not starting with a digit); fix: use a name such as {suggestion!r}"
            )
        if type_ == "identifier" and len(value.encode()) > MAX_IDENTIFIER:
            raise DeclarationError(
                f"{where()}: {value!r} is longer than {MAX_IDENTIFIER} bytes, the limit of "
                "PostgreSQL identifiers; fix: use a shorter name"
            )
        if type_ == "sha256" and not SHA256.fullmatch(value):
            raise DeclarationError(
                f"{where()}: {value!r} is not a sha256 digest (64 hexadecimal digits); "
                "fix: pass the digest the source publishes, or None"
            )
        return value
    if type_ == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise DeclarationError(
                f"{where()}: expected an int, got {type(value).__name__} {value!r}; "
                "fix: pass an int"
            )
        if minimum is not None and value < minimum:
            raise DeclarationError(
                f"{where()}: {value} is below the minimum {minimum}; fix: pass >= {minimum}"
            )
        if not INT_MIN <= value <= INT_MAX:
            raise DeclarationError(
                f"{where()}: {value} does not fit in a 64-bit signed integer; "
                f"fix: pass an int between {INT_MIN} and {INT_MAX}"
            )
        return value
    if type_ == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DeclarationError(
                f"{where()}: expected a number, got {type(value).__name__} {value!r}; "
                "fix: pass a float"
            )
        if not math.isfinite(value):
            raise DeclarationError(f"{where()}: {value!r} is not finite; fix: pass a finite number")
        return float(value)
    if type_ == "scalar":
        # A contract's value: its kind decides which of these it may be (see
        # AttributeMethods).
        if isinstance(value, str):
            return _check(owner, path, "str", value, minimum)
        if isinstance(value, (bool, int)):
            return value if isinstance(value, bool) else _check(owner, path, "int", value, minimum)
        if isinstance(value, float):
            return _check(owner, path, "float", value, minimum)
        raise DeclarationError(
            f"{where()}: expected a number, a string or a bool, got {type(value).__name__} "
            f"{value!r}; fix: pass a value of the column's type"
        )
    if type_ == "renames":
        if not isinstance(value, Mapping):
            raise DeclarationError(
                f"{where()}: expected a dict from a source's column name to an attribute "
                f"name, got {type(value).__name__} {value!r}; fix: pass e.g. "
                "{'Trip ID': 'trip_id'}"
            )
        renames: dict[str, str] = {}
        for source_name, attribute in value.items():
            plain = isinstance(source_name, str) and source_name.strip()
            if not plain or any(c in source_name for c in "\r\n\0"):
                raise DeclarationError(
                    f"{where()}: {source_name!r} is not a column name a header can hold "
                    "(text, not blank, without line breaks); fix: pass the name as the "
                    "source's header spells it"
                )
            if not isinstance(attribute, str):
                raise DeclarationError(
                    f"{where()}[{source_name!r}]: expected an attribute name, got "
                    f"{type(attribute).__name__} {attribute!r}; fix: pass the name of "
                    "one of the schema's attributes"
                )
            renames[source_name] = attribute
        return renames
    if type_ == "roles":
        if not isinstance(value, Mapping):
            raise DeclarationError(
                f"{where()}: expected a dict from role to asset name, got "
                f"{type(value).__name__} {value!r}; fix: pass e.g. {{'edges': 'ca_grqc'}}"
            )
        roles: dict[str, str] = {}
        for role, asset in value.items():
            if not isinstance(role, str) or not IDENTIFIER.fullmatch(role):
                raise DeclarationError(
                    f"{where()}: the role {role!r} is not an identifier (letters, digits and "
                    "underscores, not starting with a digit); fix: name roles like "
                    "function parameters, e.g. 'edges'"
                )
            if not isinstance(asset, str) or not SOURCE.fullmatch(asset):
                raise DeclarationError(
                    f"{where()}[{role!r}]: {asset!r} does not name an asset; fix: pass "
                    "'asset' (same dataset) or 'dataset.asset' (another dataset)"
                )
            roles[role] = asset
        return roles
    if type_ == "bool":
        if not isinstance(value, bool):
            raise DeclarationError(
                f"{where()}: expected True or False, got {type(value).__name__} {value!r}; "
                "fix: pass a bool"
            )
        return value
    expected = getattr(_concepts(), type_)
    if not isinstance(value, expected):
        members = sorted(
            name
            for name, cls in vars(_concepts()).items()
            if isinstance(cls, type) and issubclass(cls, expected) and cls is not expected
        )
        choices = f" ({', '.join(members)})" if members else ""
        raise DeclarationError(
            f"{where()}: expected {type_}{choices}, got {type(value).__name__} {value!r}; "
            f"fix: pass a {type_}"
        )
    return value


def _check_unique(owner: Concept, list_field: str, key: str) -> None:
    """Names of one list differ ignoring case: SQL engines fold the case of identifiers."""
    items = getattr(owner, list_field)
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        name = getattr(item, key)
        folded = name.lower()  # names are ASCII identifiers
        if folded in seen:
            first = seen[folded]
            other = getattr(items[first], key)
            if other == name:
                raise DuplicateNameError(
                    f"{owner._label()}.{list_field}: positions {first} and {position} are "
                    f"both named {name!r}; fix: give each entry of {list_field} a distinct {key}"
                )
            raise DuplicateNameError(
                f"{owner._label()}.{list_field}: positions {first} and {position} are named "
                f"{other!r} and {name!r}, which differ only in case, and SQL engines such as "
                "DuckDB fold identifiers to one case, so both would name the same object; "
                f"fix: give each entry of {list_field} a {key} that differs from the others "
                "ignoring case"
            )
        seen[folded] = position
