"""Point a catalog entry at a mirror: rewrite its web addresses by URL prefix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from aorist import DeclarationError, WebLocation

C = TypeVar("C")


def mirror(concept: C, prefixes: Mapping[str, str], *, strict: bool = False) -> C:
    """A copy of ``concept`` whose ``WebLocation`` addresses are rewritten by URL prefix.

    ``prefixes`` maps the start of an address to what replaces it, for example
    ``{"https://archive.ics.uci.edu/": "http://127.0.0.1:8000/uci/"}``. When several
    prefixes match an address the longest one wins. An address no prefix matches is kept
    as it is, unless ``strict`` is true: then a ``DeclarationError`` names every such
    address, so a mirror that misses a file fails before any code is generated.

    ``concept`` is usually a ``DataSet`` (before or after ``replicate_to_local``); a
    ``Universe`` or any other concept works too. Concepts are immutable, so the result is
    a new tree; parts without a web address are shared with the original. Declared
    ``sha256`` digests are kept: a mirror must serve the same bytes as the source.
    """
    if not _is_concept(concept):
        raise DeclarationError(
            f"mirror: expected an aorist concept such as a DataSet, got "
            f"{type(concept).__name__}; fix: pass the DataSet to mirror"
        )
    table = _check_prefixes(prefixes)
    unmatched: list[str] = []
    result = _rewrite(concept, table, unmatched)
    if strict and unmatched:
        listed = "\n  ".join(unmatched)
        raise DeclarationError(
            f"mirror: {len(unmatched)} address(es) of {_label(concept)} match no prefix "
            f"({', '.join(sorted(table)) or 'none given'}):\n  {listed}\n"
            "fix: add a prefix for them, or call mirror(..., strict=False) to keep them"
        )
    return result


def _check_prefixes(prefixes: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(prefixes, Mapping):
        raise DeclarationError(
            f"mirror: prefixes must be a mapping from source prefix to mirror prefix, got "
            f"{type(prefixes).__name__}; fix: pass a dict such as "
            "{'https://example.org/': 'http://127.0.0.1:8000/'}"
        )
    table: dict[str, str] = {}
    for source, target in prefixes.items():
        if not isinstance(source, str) or not source or not isinstance(target, str):
            raise DeclarationError(
                f"mirror: prefix {source!r} -> {target!r} is not a pair of strings with a "
                "non-empty source; fix: map each source prefix (str) to a mirror prefix (str)"
            )
        table[source] = target
    return table


def _rewrite(value: Any, table: dict[str, str], unmatched: list[str]) -> Any:
    """``value`` with every WebLocation rewritten; the same object when nothing changed."""
    if isinstance(value, list):
        items = [_rewrite(item, table, unmatched) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return items if changed else value
    if isinstance(value, WebLocation):
        address = value.address
        matches = [prefix for prefix in table if address.startswith(prefix)]
        if not matches:
            unmatched.append(address)
            return value
        prefix = max(matches, key=len)
        return WebLocation(address=table[prefix] + address[len(prefix) :])
    if not _is_concept(value):
        return value
    fields = {field.name: getattr(value, field.name) for field in value._fields}
    rewritten = {name: _rewrite(old, table, unmatched) for name, old in fields.items()}
    if all(rewritten[name] is fields[name] for name in fields):
        return value
    return type(value)(**rewritten)


def _is_concept(value: Any) -> bool:
    # Every aorist concept declares its fields (``_fields``) and crosses into the core
    # as a tree (``to_tree``); rebuilding one from its fields is how aorist's own
    # ``replicate_to_local`` makes a changed copy.
    return isinstance(getattr(type(value), "_fields", None), tuple) and callable(
        getattr(value, "to_tree", None)
    )


def _label(concept: Any) -> str:
    name = getattr(concept, "name", None)
    kind = type(concept).__name__
    return f"{kind} {name!r}" if isinstance(name, str) else kind
