"""Python functions as assets: capturing a function's source, and `derived_tables(module)`.

A function asset's code is copied into the generated program, which stays
self-contained: the program holds the function's source text and the import lines of
its module that the function uses, and nothing else of that module. `capture` refuses,
with a `DeclarationError` naming the cause and the fix, every function that would not
work there:

- anything that is not a plain function: a builtin, a class, a callable object, a
  `functools.partial`, a method (bound, or a function defined in a class body);
- a lambda, a function defined inside another function (a closure or not), a decorated
  function (`@decorator` in its source, or a wrapper with `__wrapped__`), a generator,
  coroutine or async generator function;
- a function whose source cannot be read (defined in an interactive session or by
  `exec`), or whose source file no longer matches it;
- parameters that are not plain keyword-callable names: `*args`, `**kwargs`,
  positional-only parameters (before `/`), and parameters with a default value (every
  parameter is a role that always receives its source table, so a default would never
  be used, and its expression would have to be evaluated in the generated program);
  keyword-only parameters are accepted;
- a `global` statement (a computation returns its table, it changes no module state);
- a global name it reads (in its body, annotations or defaults) that the generated
  program would not have: anything but Python's builtins, the function's own name, and
  names its module binds by a top-level `import` or `from ... import` statement. A
  module-level global whose value is a module imported elsewhere (another notebook
  cell, say) is imported by that module's name.

Imports are written one name per line, normalised (`import pyarrow.compute as pc`,
`from collections import Counter`, `import os` for `import os as os`), with relative
imports resolved against the function's package; sorted and deduplicated.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import inspect
import symtable
import sys
import textwrap
import types
from collections.abc import Callable, Mapping
from typing import Any

from aorist.errors import DeclarationError, UnknownReferenceError

PLAIN_DEF = "define it with def at the top level of a module (a .py file) and pass it"


def capture(function: Any, where: str) -> Any:
    """The `PythonFunction` of `function`: its source, the imports it uses, its module.

    `where` is the path of the declaration, the start of every error message.
    """
    from aorist._concepts import PythonFunction

    _check_kind(function, where)
    label = f"{function.__module__}.{function.__qualname__}"
    name = function.__name__
    try:
        raw = inspect.getsource(function)
    except (OSError, TypeError) as error:
        raise DeclarationError(
            f"{where}: the source of {label} cannot be read ({error}): it was defined in "
            "an interactive session or by exec, and the generated program needs its source "
            f"text; fix: {PLAIN_DEF}"
        ) from None
    source = textwrap.dedent(raw)
    if not source.endswith("\n"):
        source += "\n"
    node = parse_def(source, name, where, label)
    parameters = [a.arg for a in node.args.args + node.args.kwonlyargs]
    code = function.__code__
    loaded = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    if sorted(parameters) != sorted(loaded):
        raise DeclarationError(
            f"{where}: the source file of {label} defines {name}({', '.join(parameters)}), "
            f"but the loaded function takes ({', '.join(loaded)}): the file changed since "
            "it was imported; fix: import the module again (restart the interpreter)"
        )
    imports = _imports(function, global_names(source, where, label), where, label)
    try:
        return PythonFunction(name=name, source=source, imports=imports, module=function.__module__)
    except DeclarationError as error:
        raise type(error)(f"{where}: {error}") from None


def _check_kind(function: Any, where: str) -> None:
    """Refuse what is not a plain function defined by `def` at a module's top level."""
    if isinstance(function, functools.partial):
        inner = getattr(function.func, "__qualname__", type(function.func).__name__)
        raise DeclarationError(
            f"{where}: functools.partial({inner}, ...) is not a function: it has no source "
            "text of its own to copy into the generated program; fix: define a function "
            f"at the top level of a module that calls {inner} with those arguments, and "
            "pass it"
        )
    if inspect.isclass(function):
        raise DeclarationError(
            f"{where}: {function.__module__}.{function.__qualname__} is a class, not a "
            f"function; fix: {PLAIN_DEF}, its parameters named after the roles of "
            "source_asset_names"
        )
    if inspect.ismethod(function):
        raise DeclarationError(
            f"{where}: {function.__qualname__} is a method (bound to a "
            f"{type(function.__self__).__name__}), and the generated program copies "
            f"functions, not objects; fix: {PLAIN_DEF}"
        )
    wrapped = getattr(function, "__wrapped__", None)
    if wrapped is not None:
        inner = f"{getattr(wrapped, '__module__', '?')}.{getattr(wrapped, '__qualname__', '?')}"
        raise DeclarationError(
            f"{where}: {inner} is decorated (what is passed is a wrapper around it), and "
            "the generated program would copy the undecorated source; fix: pass a function "
            "without decorators"
        )
    if not inspect.isfunction(function):
        if inspect.isroutine(function):
            label = getattr(function, "__qualname__", repr(function))
            raise DeclarationError(
                f"{where}: {label} is a builtin (implemented in C), which has no Python "
                "source to copy into the generated program; fix: define a function at the "
                "top level of a module that calls it, and pass that function"
            )
        kind = type(function)
        what = (
            f"a callable {kind.__module__}.{kind.__qualname__} object"
            if callable(function)
            else f"{kind.__name__} {function!r}"
        )
        raise DeclarationError(
            f"{where}: expected a function, got {what}; fix: {PLAIN_DEF}, its parameters "
            "named after the roles of source_asset_names"
        )
    label = f"{function.__module__}.{function.__qualname__}"
    if function.__name__ == "<lambda>":
        raise DeclarationError(
            f"{where}: {label} is a lambda, which has no name and no source of its own to "
            "copy into the generated program; fix: define it with def at the top level of "
            "a module, e.g. def <asset name>(<role>, ...): return ..."
        )
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        raise DeclarationError(
            f"{where}: {label} is defined with async def, and the generated program calls "
            "it without an event loop; fix: define it with def and return the table"
        )
    if inspect.isgeneratorfunction(function):
        raise DeclarationError(
            f"{where}: {label} is a generator function (it yields), but the generated "
            "program expects one table returned; fix: return a pyarrow.Table or a pandas "
            "DataFrame instead of yielding"
        )
    free = function.__code__.co_freevars
    if "<locals>" in function.__qualname__ or free:
        uses = f" and uses its variables {', '.join(free)}" if free else ""
        raise DeclarationError(
            f"{where}: {label} is defined inside another function{uses}, which the "
            "generated program does not have; fix: define it at the top level of a module, "
            "computing inside it what it took from the enclosing function (if it is the "
            "wrapper a decorator returned, remove the decorator)"
        )
    if function.__qualname__ != function.__name__:
        owner = function.__qualname__.rsplit(".", 1)[0]
        raise DeclarationError(
            f"{where}: {label} is defined in the class {owner}, which the generated program "
            f"does not have; fix: {PLAIN_DEF}"
        )


def parse_def(source: str, name: str, where: str, label: str) -> ast.FunctionDef:
    """The one `def name(...)` that `source` is; refused otherwise, or if its parameters
    cannot each be passed one source table by keyword. Messages start with `where` and
    call the function `label`."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise DeclarationError(
            f"{where}: the source of {label} is not valid Python ({error.msg}, line "
            f"{error.lineno}); fix: {PLAIN_DEF}"
        ) from None
    body = tree.body
    if len(body) == 1 and isinstance(body[0], ast.AsyncFunctionDef):
        raise DeclarationError(
            f"{where}: {label} is defined with async def, and the generated program calls "
            "it without an event loop; fix: define it with def and return the table"
        )
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef) or body[0].name != name:
        found = ", ".join(type(s).__name__ for s in body) or "nothing"
        raise DeclarationError(
            f"{where}: the source of {label} is not exactly one def of {name} (it holds: "
            f"{found}); "
            f"fix: {PLAIN_DEF}"
        )
    node = body[0]
    if node.decorator_list:
        decorators = ", ".join("@" + ast.unparse(d) for d in node.decorator_list)
        raise DeclarationError(
            f"{where}: {label} is decorated ({decorators}), and the generated program "
            "would run the decorators without having them; fix: pass a function without "
            "decorators"
        )
    args = node.args
    if args.vararg or args.kwarg:
        star = f"*{args.vararg.arg}" if args.vararg else f"**{args.kwarg.arg}"  # type: ignore[union-attr]
        raise DeclarationError(
            f"{where}: {label} takes {star}, but the generated program calls it with one "
            "keyword argument per role of source_asset_names; fix: name each source table "
            "as a parameter"
        )
    if args.posonlyargs:
        listed = ", ".join(a.arg for a in args.posonlyargs)
        raise DeclarationError(
            f"{where}: {label} takes positional-only parameters ({listed}), but the "
            "generated program passes each source table by keyword; fix: remove the / "
            "from its parameters"
        )
    defaulted = [a.arg for a in args.args[len(args.args) - len(args.defaults) :]]
    defaulted += [
        a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
    ]
    if defaulted:
        raise DeclarationError(
            f"{where}: the parameter {defaulted[0]!r} of {label} has a default value, but "
            "each parameter is a role that always receives its source table, so the "
            "default would never be used; fix: remove the default"
        )
    return node


def global_names(source: str, where: str, label: str) -> set[str]:
    """The global names the function `source` defines reads (body, annotations,
    defaults, nested scopes); a `global` statement is refused."""
    table = symtable.symtable(source, "<function>", "exec")
    names: set[str] = set()
    pending = [table]
    while pending:
        scope = pending.pop()
        pending.extend(scope.get_children())
        for symbol in scope.get_symbols():
            if symbol.is_declared_global():
                raise DeclarationError(
                    f"{where}: {label} declares global {symbol.get_name()}, but a computed asset "
                    "returns its table and changes no module state (the generated program "
                    f"would not have the module's {symbol.get_name()}); fix: remove the "
                    "global statement and return what the function computes"
                )
            if symbol.is_global() and symbol.is_referenced():
                names.add(symbol.get_name())
    return names


def import_bindings(tree: ast.Module, package: str | None) -> dict[str, list[str]]:
    """The names the top-level import statements of `tree` bind, each with its
    normalised import lines (relative imports resolved against `package`)."""
    bindings: dict[str, list[str]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname and alias.asname != alias.name:
                    bound, line = alias.asname, f"import {alias.name} as {alias.asname}"
                else:
                    bound, line = alias.name.split(".")[0], f"import {alias.name}"
                bindings.setdefault(bound, []).append(line)
        elif isinstance(statement, ast.ImportFrom):
            module = statement.module or ""
            if statement.level:
                try:
                    module = importlib.util.resolve_name("." * statement.level + module, package)
                except (ImportError, ValueError):
                    continue
            if module == "__future__":
                continue
            for alias in statement.names:
                if alias.name == "*":
                    continue
                if alias.asname and alias.asname != alias.name:
                    bound = alias.asname
                    line = f"from {module} import {alias.name} as {alias.asname}"
                else:
                    bound, line = alias.name, f"from {module} import {alias.name}"
                bindings.setdefault(bound, []).append(line)
    return bindings


def _other_bindings(tree: ast.Module) -> set[str]:
    """Names the top level of `tree` binds other than by import (defs, classes, assignments)."""
    bound: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(statement.name)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                bound.add(node.id)
    return bound


def _imports(function: types.FunctionType, names: set[str], where: str, label: str) -> list[str]:
    """The import lines binding the global `names` the function reads; other globals
    of its module are refused."""
    try:
        lines, _ = inspect.findsource(function)
        tree = ast.parse("".join(lines))
    except (OSError, SyntaxError, ValueError):
        tree = ast.Module(body=[], type_ignores=[])
    package = function.__globals__.get("__package__") or None
    bindings = import_bindings(tree, package)
    others = _other_bindings(tree)
    module_globals = function.__globals__
    imports: set[str] = set()
    refused: list[str] = []
    for name in sorted(names - {function.__name__}):
        if name in bindings and name not in others:
            imports.update(bindings[name])
        elif name in module_globals:
            value = module_globals[name]
            if (
                isinstance(value, types.ModuleType)
                and value.__name__ != "__main__"
                and sys.modules.get(value.__name__) is value
            ):
                module = value.__name__
                imports.add(f"import {module}" if module == name else f"import {module} as {name}")
            else:
                refused.append(name)
        elif not hasattr(builtins, name):
            raise DeclarationError(
                f"{where}: {label} reads the name {name!r} (in its body, annotations or "
                "defaults), which neither its module nor Python's builtins define, so the "
                f"generated program would not have it; fix: import {name} inside the "
                "function, or at the top level of its module if an annotation uses it (an "
                "import under `if TYPE_CHECKING:` is not enough: the generated program "
                "evaluates annotations)"
            )
    if refused:
        module = function.__module__
        kinds = ", ".join(f"{n!r} ({_kind(module_globals[n])})" for n in refused)
        example = (
            f" (e.g. `from {module} import {refused[0]}` in its body, if {module} can be "
            "imported where the program runs)"
            if module != "__main__"
            else ""
        )
        plural = "s" if len(refused) > 1 else ""
        raise DeclarationError(
            f"{where}: {label} reads the global name{plural} {kinds} of its module, which "
            "its module does not import, and the generated program copies only the "
            "function and the imports it uses, so it would not have "
            f"{'them' if refused[1:] else 'it'}; fix: define {', '.join(refused)} inside "
            f"{function.__name__}(), or import {'them' if refused[1:] else 'it'} there"
            f"{example}"
        )
    return sorted(imports)


def _kind(value: Any) -> str:
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "a function"
    if inspect.isclass(value):
        return "a class"
    return f"a variable of type {type(value).__name__}"


def check_function(function: Any) -> None:
    """Checks of a `PythonFunction` however it was made (by `capture`, or by hand).

    Its source is one plain `def` of its name; each import is one normalised
    `import`/`from ... import` line; every global name the source reads is its own name,
    a builtin or a name its imports bind.
    """
    where = function._label()
    parse_def(function.source, function.name, f"{where}.source", function.name)
    bound: set[str] = set()
    for position, line in enumerate(function.imports):
        bound.update(_import_line(line, f"{where}.imports[{position}]"))
    names = global_names(function.source, f"{where}.source", function.name)
    missing = sorted(n for n in names - bound - {function.name} if not hasattr(builtins, n))
    if missing:
        raise DeclarationError(
            f"{where}.source: reads {', '.join(repr(n) for n in missing)}, which is neither a "
            "builtin nor bound by its imports, so the generated program would not have it; "
            "fix: add the import line to imports=[...], or define it inside the function"
        )


def _import_line(line: str, where: str) -> set[str]:
    """The names one import line binds; anything but one absolute import is refused."""
    fix = (
        "fix: write one absolute import per line, e.g. 'import pyarrow as pa' or "
        "'from collections import Counter'"
    )
    try:
        tree = ast.parse(line)
    except SyntaxError:
        raise DeclarationError(f"{where}: {line!r} is not an import statement; {fix}") from None
    body = tree.body
    if (
        "\n" in line
        or len(body) != 1
        or not isinstance(body[0], ast.Import | ast.ImportFrom)
        or (isinstance(body[0], ast.ImportFrom) and body[0].level)
        or any(alias.name == "*" for alias in body[0].names)
    ):
        raise DeclarationError(f"{where}: {line!r} is not one absolute import line; {fix}")
    bindings = import_bindings(tree, None)
    return set(bindings)


def derived_tables(
    module: types.ModuleType,
    target: Any,
    *,
    schemas: Mapping[str, Any] | None = None,
) -> list[Any]:
    """One `StaticDataTable` per public function of `module`, Hamilton style.

    The public functions are those defined in `module` itself (not imported, not bound
    under another name) whose names do not start with ``_``; classes and other values
    are ignored. In the order of their source lines, each becomes the asset named after
    the function, computed by it with ``ComputedFromLocalData(source_asset_names={p: p
    for each parameter p}, target=target, function=f)``: each parameter names an asset of
    the same dataset (the dataset the tables are added to), which can be another
    function's table. The schema is ``schemas[name]`` when given (a declared schema, so
    the result's columns are checked before publishing), else
    ``UndefinedTabularSchema()``; docstrings declare no schema. The asset's ``comment``
    is the first line of the function's docstring, if it has one.

    A function that cannot be captured (see `capture`), that takes no parameter, a
    `schemas` key that is no public function of the module and a module without public
    functions are `DeclarationError`s.
    """
    from aorist import _concepts as c

    if not isinstance(module, types.ModuleType):
        raise DeclarationError(
            f"derived_tables: expected a module, got {type(module).__name__} {module!r}; "
            "fix: import the module of functions and pass it, e.g. "
            "derived_tables(my_functions, target)"
        )
    where = f"derived_tables({module.__name__})"
    if not isinstance(target, c.Storage):
        raise DeclarationError(
            f"{where}.target: expected a Storage, got {type(target).__name__} {target!r}; "
            "fix: pass where the tables are published, e.g. HiveTableStorage("
            "location=MinioLocation(name='lake'), encoding=ParquetEncoding())"
        )
    functions = _public_functions(module)
    if not functions:
        raise DeclarationError(
            f"{where}: the module defines no public function (one defined in it whose name "
            "does not start with _); fix: pass the module that defines the table functions"
        )
    schemas = dict(schemas or {})
    names = [name for name, _ in functions]
    for name, schema in schemas.items():
        if name not in names:
            from aorist._mixins import _unknown

            raise UnknownReferenceError(
                _unknown(
                    f"{where}.schemas",
                    "public function of the module",
                    str(name),
                    names,
                    "key each schema by the name of the function that computes the table",
                )
            )
        if not isinstance(schema, c.Schema):
            raise DeclarationError(
                f"{where}.schemas[{name!r}]: expected a Schema, got "
                f"{type(schema).__name__} {schema!r}; fix: pass e.g. "
                "default_tabular_schema(template)"
            )
    tables = []
    for name, function in functions:
        path = f"{where}.{name}"
        captured = capture(function, path)
        parameters = captured.parameters()
        if not parameters:
            raise DeclarationError(
                f"{path}: {name}() takes no parameter, so it reads no asset; fix: name the "
                "assets it is computed from as its parameters"
            )
        doc = inspect.getdoc(function)
        try:
            tables.append(
                c.StaticDataTable(
                    name=name,
                    schema=schemas.get(name, c.UndefinedTabularSchema()),
                    setup=c.ComputedFromLocalData(
                        source_asset_names={p: p for p in parameters},
                        target=target,
                        function=captured,
                    ),
                    comment=doc.splitlines()[0] if doc else None,
                )
            )
        except DeclarationError as error:
            raise type(error)(f"{path}: {error}") from None
    return tables


def _public_functions(module: types.ModuleType) -> list[tuple[str, Callable[..., Any]]]:
    """(name, function) of the public functions `module` defines, in source order.

    Decorated functions of the module are kept (a wrapper made with `functools.wraps`,
    or `functools.cache`), so that capturing them says why they cannot be used; other
    callables (classes, instances, partials) are not functions of the module.
    """
    found = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            if value.__name__ != name:
                continue  # another name for a function listed under its own
        elif inspect.isclass(value) or not hasattr(value, "__wrapped__"):
            continue
        code = getattr(inspect.unwrap(value), "__code__", None)
        found.append((getattr(code, "co_firstlineno", 0), name, value))
    return [(name, value) for _, name, value in sorted(found, key=lambda f: (f[0], f[1]))]
