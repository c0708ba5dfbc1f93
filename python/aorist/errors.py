"""The one exception hierarchy of aorist.

Every error a user can cause is an ``AoristError``. Declaration errors are raised while
concepts are constructed; planning errors while ``dag()`` turns a universe into code.
Messages name the concept path, the cause and the fix. The Rust core raises these same
classes by name (see ``crates/aorist_python/src/lib.rs``), so there is one mapping.
"""

from __future__ import annotations


class AoristError(Exception):
    """Base class of every error aorist raises on bad input."""


class DeclarationError(AoristError, ValueError):
    """A concept was declared with a bad value (wrong type, invalid name, ...)."""


class DuplicateNameError(DeclarationError):
    """Two concepts that must have distinct names share one, or names differing only in case.

    SQL engines fold the case of identifiers (DuckDB treats ``edges`` and ``EDGES`` as one
    table), so names of one list must differ ignoring case.
    """


class UnknownReferenceError(DeclarationError):
    """A concept refers to something that is not declared.

    A schema's datum template must be one of its dataset's ``datum_templates``; the users
    named by groups and role bindings, and the users, groups and roles named by access
    policies, must be declared in the universe.
    """


class PlanningError(AoristError):
    """A valid universe cannot be turned into code as asked."""


class UnknownConstraintError(PlanningError):
    """A requested constraint is not in the catalog."""


class UnknownDialectError(PlanningError):
    """The requested dialect is not one aorist renders."""


class UnknownStageError(PlanningError, ValueError):
    """``stage()`` was asked for a planning stage that does not exist.

    Also a ``ValueError``, which is what earlier versions raised.
    """


class UnknownFormatError(PlanningError, ValueError):
    """``explain()`` was asked for an output format it does not write (text or dot).

    Also a ``ValueError``, which is what earlier versions raised.
    """


class UnknownLanguageError(PlanningError):
    """A language preference names a language no recipe is written in."""


class CycleError(PlanningError):
    """Constraint requirements form a cycle."""


class UnsatisfiableConstraintError(PlanningError):
    """A constraint requires another that cannot hold for its concept."""


class NoRecipeError(PlanningError):
    """No recipe satisfies a constraint in any allowed language."""


class UnsupportedStorageError(PlanningError):
    """The configured engines cannot serve a storage or encoding."""


class CatalogError(AoristError):
    """The constraint catalog or a recipe file is malformed (a bug in aorist itself)."""


__all__ = [
    "AoristError",
    "CatalogError",
    "CycleError",
    "DeclarationError",
    "DuplicateNameError",
    "NoRecipeError",
    "PlanningError",
    "UnknownConstraintError",
    "UnknownDialectError",
    "UnknownFormatError",
    "UnknownLanguageError",
    "UnknownReferenceError",
    "UnknownStageError",
    "UnsatisfiableConstraintError",
    "UnsupportedStorageError",
]
