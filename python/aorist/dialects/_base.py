"""What every dialect provides."""

from __future__ import annotations

from typing import Any, ClassVar

from aorist.errors import PlanningError

Node = dict[str, Any]


class Dialect:
    """A renderer of the cross-language AST into one target's program text."""

    name: ClassVar[str]
    host: ClassVar[str]
    suffix: ClassVar[str]
    default_preferences: ClassVar[tuple[str, ...]]

    def render(self, module: Node) -> str:
        raise NotImplementedError

    def unsupported(self, node: Node, why: str = "") -> PlanningError:
        """The one path for AST nodes this target cannot express."""
        detail = f": {why}" if why else ""
        return PlanningError(
            f"dialect {self.name!r}: cannot express a {node.get('node', node)!r} node{detail}; "
            "fix: choose a dialect that supports it, or report this as a bug"
        )
