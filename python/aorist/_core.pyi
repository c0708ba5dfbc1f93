# Stubs of the compiled extension aorist._core (crates/aorist_python); tests/test_stubs.py
# checks them against the compiled module.

__all__ = ["plan", "concept_kinds", "attribute_types", "constraint_names", "recipe_book"]

def plan(
    universe: str | list[str],
    constraints: list[str],
    preferences: str,
    host: str,
    name: str,
    stage: str,
    external: list[str] = ...,
) -> str: ...
def concept_kinds() -> list[str]: ...
def attribute_types() -> list[tuple[str, list[tuple[str, str]]]]: ...
def constraint_names() -> list[str]: ...
def recipe_book() -> str: ...
