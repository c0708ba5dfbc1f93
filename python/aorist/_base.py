"""The machinery shared by every concept class: validation, equality, repr, tree.

The classes themselves are generated from ``concepts/*.toml`` into ``_concepts.py``;
this module interprets their ``_fields`` declarations.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar

from aorist.errors import DeclarationError, DuplicateNameError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# PostgreSQL truncates identifiers at 63 bytes; every engine aorist targets accepts that.
MAX_IDENTIFIER = 63


@dataclass(frozen=True)
class Field:
    """One declared field: its name, declared type, default expression and bounds."""

    name: str
    type: str
    default: str | None = None
    min: int | None = None


class Concept:
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

    def _coerce(self, field: Field, value: Any) -> Any:
        """Hook for mixins that accept extra input shapes (a dict of assets, say)."""
        return value

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
        return [_check(owner, f"{path}[{i}]", inner, v, minimum) for i, v in enumerate(value)]
    if type_ in ("str", "identifier", "env_var", "sha256"):
        if not isinstance(value, str):
            raise DeclarationError(
                f"{where()}: expected a string, got {type(value).__name__} {value!r}; "
                "fix: pass a str"
            )
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
        return value
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
    seen: dict[str, int] = {}
    for position, item in enumerate(getattr(owner, list_field)):
        name = getattr(item, key)
        if name in seen:
            raise DuplicateNameError(
                f"{owner._label()}.{list_field}: positions {seen[name]} and {position} are "
                f"both named {name!r}; fix: give each entry of {list_field} a distinct {key}"
            )
        seen[name] = position
