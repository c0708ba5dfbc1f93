"""Hand-written behaviour of generated concept classes (named by `mixin` in concepts.toml)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aorist.errors import DeclarationError, UnknownReferenceError

if TYPE_CHECKING:
    from aorist._base import Field
    from aorist._concepts import Asset, DataSet, Encoding, Storage, Universe

# Schemas of the embedded lake that generated programs use themselves.
LAKE_SCHEMAS = {
    "_staging": "the staging views of tables being loaded",
    "_aorist": "the record of what each table was published from",
}

# An access policy `"<kind>:<name>"` names who may use a dataset; other text is a note.
ACCESS_KINDS = ("user", "group", "role")


def _unknown(where: str, what: str, name: str, declared: Iterable[str], fix: str) -> str:
    """The message of a reference to `name`, which is not among `declared`."""
    names = sorted(set(declared))
    close = difflib.get_close_matches(name, names, n=3)
    listed = f"declared: {', '.join(names)}" if names else "none is declared"
    nearest = f"use {' or '.join(repr(c) for c in close)}, or " if close else ""
    return f"{where}: {name!r} is not a declared {what} ({listed}); fix: {nearest}{fix}"


class DataSetMethods:
    """`DataSet` accepts its assets as a list or a dict and can be replicated locally."""

    def _coerce(self, field: Field, value: Any) -> Any:
        if field.name == "assets" and isinstance(value, dict):
            assets = list(value.values())
            for key, asset in value.items():
                if getattr(asset, "name", key) != key:
                    raise DeclarationError(
                        f"DataSet.assets[{key!r}]: the key differs from the asset's name "
                        f"{asset.name!r}; fix: key each asset by its own name"
                    )
            return assets
        return value

    def _check_references(self: DataSet) -> None:  # type: ignore[misc]
        """Each schema's datum template is one of the dataset's `datum_templates`.

        The lake keeps its own schemas beside the datasets': a dataset may not take
        their names (DuckDB folds case, so neither in another case).
        """
        if self.name.lower() in LAKE_SCHEMAS:
            raise DeclarationError(
                f"{self._label()}.name: {self.name!r} is the lake's own schema "
                f"(it holds {LAKE_SCHEMAS[self.name.lower()]}); fix: name the dataset "
                "otherwise"
            )
        templates = {template.name for template in self.datum_templates}  # type: ignore[attr-defined]
        for position, asset in enumerate(self.assets):
            schema = getattr(asset, "schema", None)
            template = getattr(schema, "datum_template", None)
            name = getattr(template, "name", None)
            # A predictions template is derived from its model, not declared by the dataset.
            if name is None or name in templates or isinstance(template, PredictionsMethods):
                continue
            raise UnknownReferenceError(
                _unknown(
                    f"{self._label()}.assets[{position}] ({asset.name!r})"  # type: ignore[attr-defined]
                    ".schema.datum_template",
                    "datum template of the dataset",
                    name,
                    templates,
                    f"add the template {name!r} to DataSet(datum_templates=[...])",
                )
            )

    def add_asset(self: DataSet, asset: Asset) -> None:  # type: ignore[misc]
        """Add one asset, keeping names unique (the dataset is changed in place)."""
        assets = [*self.assets, asset]
        probe = type(self)(
            name=self.name,
            description=self.description,
            assets=assets,
            datum_templates=self.datum_templates,
            access_policies=self.access_policies,
            tag=self.tag,
        )
        object.__setattr__(self, "assets", probe.assets)

    def replicate_to_local(  # type: ignore[misc]
        self: DataSet,
        storage: Storage,
        tmp_dir: str,
        tmp_encoding: Encoding,
    ) -> DataSet:
        """A new DataSet whose remote assets are replicated from their remote into `storage`.

        Each asset with a `RemoteStorageSetup` (or `LocalStorageSetup`) gets a
        `ReplicationStorageSetup` whose source is that storage and whose one target is
        `storage`; `tmp_dir` holds intermediate files in `tmp_encoding`. Assets that are
        already replicated are kept as they are.
        """
        from aorist import _concepts as c

        assets = []
        for asset in self.assets:
            setup = asset.setup  # type: ignore[attr-defined]  # every Asset has a setup
            if isinstance(setup, c.RemoteStorageSetup):
                source = setup.remote
            elif isinstance(setup, c.LocalStorageSetup):
                source = setup.local
            else:
                assets.append(asset)
                continue
            replicated = c.ReplicationStorageSetup(
                source=source, targets=[storage], tmp_dir=tmp_dir, tmp_encoding=tmp_encoding
            )
            assets.append(
                type(asset)(  # type: ignore[call-arg]
                    **{f.name: getattr(asset, f.name) for f in asset._fields if f.name != "setup"},
                    setup=replicated,
                )
            )
        return type(self)(
            name=self.name,
            description=self.description,
            assets=assets,
            datum_templates=self.datum_templates,
            access_policies=self.access_policies,
            tag=self.tag,
        )


class UniverseMethods:
    """`Universe` checks that the people and roles it names are declared."""

    def _check_references(self: Universe) -> None:  # type: ignore[misc]
        """Groups, role bindings and access policies name declared users, groups, roles."""
        where = self._label()
        users = {user.unixname for user in self.users}
        for g, group in enumerate(self.groups):
            for m, member in enumerate(group.members):
                if member not in users:
                    raise UnknownReferenceError(
                        _unknown(
                            f"{where}.groups[{g}] ({group.name!r}).members[{m}]",
                            "user",
                            member,
                            users,
                            f"declare User(unixname={member!r}) in Universe(users=[...])",
                        )
                    )
        for b, binding in enumerate(self.role_bindings):
            if binding.user_name not in users:
                raise UnknownReferenceError(
                    _unknown(
                        f"{where}.role_bindings[{b}].user_name",
                        "user",
                        binding.user_name,
                        users,
                        f"declare User(unixname={binding.user_name!r}) in Universe(users=[...])",
                    )
                )
        declared = {
            "user": (users, "declare the user in Universe(users=[...])"),
            "group": (
                {group.name for group in self.groups},
                "declare the group in Universe(groups=[...])",
            ),
            "role": (
                {binding.role for binding in self.role_bindings},
                "bind the role to a user in Universe(role_bindings=[...])",
            ),
        }
        for d, dataset in enumerate(self.datasets):
            for p, policy in enumerate(dataset.access_policies):
                kind, colon, name = policy.partition(":")
                kind = kind.strip().lower()
                if not colon or kind not in ACCESS_KINDS:
                    continue
                names, fix = declared[kind]
                if name.strip() not in names:
                    raise UnknownReferenceError(
                        _unknown(
                            f"{where}.datasets[{d}] ({dataset.name!r}).access_policies[{p}]",
                            kind,
                            name.strip(),
                            names,
                            fix,
                        )
                    )


# A `{role}` placeholder of a derived table's SQL; `{{` and `}}` stand for braces.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def sql_placeholders(sql: str, where: str) -> list[str]:
    """The roles `sql` names as `{role}`, in order; malformed braces are an error."""
    roles = []
    for match in PLACEHOLDER.finditer(sql):
        text = match.group(0)
        if text in ("{{", "}}"):
            continue
        role = match.group(1)
        if role is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", role):
            raise DeclarationError(
                f"{where}: {text!r} at position {match.start()} is not a placeholder; fix: "
                "write {role} for a source table (a role of source_asset_names), and {{ or "
                "}} for a literal brace"
            )
        roles.append(role)
    return roles


class ComputedMethods:
    """`ComputedFromLocalData` captures its function and checks its SQL's placeholders."""

    def _coerce(self, field: Field, value: Any) -> Any:
        if field.name == "function" and value is not None:
            from aorist import _concepts as c
            from aorist._capture import capture

            if isinstance(value, c.PythonFunction):
                return value
            return capture(value, "ComputedFromLocalData.function")
        return value

    def _check_references(self) -> None:
        where = "ComputedFromLocalData"
        roles = self.source_asset_names  # type: ignore[attr-defined]
        sql, function = self.sql, self.function  # type: ignore[attr-defined]
        if sql is not None and function is not None:
            raise DeclarationError(
                f"{where}: both sql= and function= are given; fix: compute the asset one "
                "way: pass either sql or function"
            )
        if (sql is not None or function is not None) and not roles:
            raise DeclarationError(
                f"{where}.source_asset_names: is empty; fix: name the assets the "
                "computation reads, e.g. {'edges': 'ca_grqc'}"
            )
        if sql is not None:
            if not sql.strip():
                raise DeclarationError(f"{where}.sql: is empty; fix: pass a SELECT query")
            for role in sql_placeholders(sql, f"{where}.sql"):
                if role not in roles:
                    raise UnknownReferenceError(
                        _unknown(
                            f"{where}.sql: the placeholder {{{role}}}",
                            "role of source_asset_names",
                            role,
                            roles,
                            f"add {role!r} to source_asset_names, or write a declared role",
                        )
                    )
        if function is not None:
            parameters = function.parameters()
            missing = [p for p in parameters if p not in roles]
            unused = [r for r in roles if r not in parameters]
            if missing or unused:
                raise DeclarationError(
                    f"{where}.function: {function.name}({', '.join(parameters)}) takes "
                    f"parameters {missing} that are not roles, and roles {unused} are not "
                    "its parameters; fix: name the function's parameters exactly as the "
                    f"roles of source_asset_names ({', '.join(roles) or 'none'})"
                )


class PythonFunctionMethods:
    """A captured function: its parameters are read from its source."""

    def _check_references(self) -> None:
        """The source is one plain def; its imports bind every global name it reads."""
        from aorist._capture import check_function

        check_function(self)

    def parameters(self) -> list[str]:
        import ast

        tree = ast.parse(self.source)  # type: ignore[attr-defined]
        node = tree.body[0]
        assert isinstance(node, ast.FunctionDef)
        return [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]


class PredictionsMethods:
    """A predictions template's columns: the key attributes, then the prediction."""

    @property
    def attributes(self) -> list[Any]:
        from aorist import _concepts as c

        kind = (
            c.FloatPrediction
            if isinstance(self, c.PredictionsFromTrainedFloatMeasure)
            else c.Categorical
        )
        return [*self.key_attributes, kind(self.name)]  # type: ignore[attr-defined]


REGRESSION: tuple[str, ...] = (
    "SVMRegressionAlgorithm",
    "RandomForestRegressionAlgorithm",
    "LinearRegressionAlgorithm",
)
CLASSIFICATION: tuple[str, ...] = (
    "RandomForestClassificationAlgorithm",
    "LogisticRegressionAlgorithm",
)


class SupervisedModelMethods:
    """A model's template says what it predicts; its algorithm must predict that."""

    def _check_references(self) -> None:
        from aorist import _concepts as c

        where = self._label()  # type: ignore[attr-defined]
        template, algorithm = self.template, self.algorithm  # type: ignore[attr-defined]
        if isinstance(template, c.TrainedFloatMeasure):
            fitting, kind = REGRESSION, "a regression (TrainedFloatMeasure)"
        elif isinstance(template, c.TrainedCategoricalMeasure):
            fitting, kind = CLASSIFICATION, "a classification (TrainedCategoricalMeasure)"
        else:
            raise DeclarationError(
                f"{where}.template: a {type(template).__name__} is not what a model "
                "predicts; fix: pass TrainedFloatMeasure(...) (regression) or "
                "TrainedCategoricalMeasure(...) (classification)"
            )
        if type(algorithm).__name__ not in fitting:
            raise DeclarationError(
                f"{where}.algorithm: {type(algorithm).__name__} does not fit {kind}; fix: "
                f"use one of {', '.join(fitting)}"
            )
        if template.objective in template.features:
            raise DeclarationError(
                f"{where}.template: the objective {template.objective!r} is also a feature; "
                "fix: remove it from features"
            )
        setup = self.setup  # type: ignore[attr-defined]
        if not isinstance(setup, c.ComputedFromLocalData):
            raise DeclarationError(
                f"{where}.setup: a model is trained from a table, not a "
                f"{type(setup).__name__}; fix: pass ComputedFromLocalData("
                "source_asset_names={'training_dataset': '<table>'}, target=LocalFileStorage("
                "location=LocalFileSystemLocation(path='models'), encoding=ONNXEncoding()))"
            )
        if len(setup.source_asset_names) != 1 or setup.sql or setup.function:
            raise DeclarationError(
                f"{where}.setup: a model is trained on exactly one table, with neither sql "
                "nor function; fix: pass source_asset_names={'training_dataset': '<table>'}"
            )


# The kernels sklearn.svm.SVR accepts by name.
SVR_KERNELS = ("linear", "poly", "rbf", "sigmoid")


class AlgorithmMethods:
    """Hyperparameters scikit-learn would refuse only at training are refused here."""

    def _check_references(self) -> None:
        where = self._label()  # type: ignore[attr-defined]
        c = getattr(self, "c", None)
        if c is not None and c <= 0:
            raise DeclarationError(
                f"{where}.c: {c!r} is not a positive regularisation strength; "
                "fix: pass c > 0 (1.0 is scikit-learn's default)"
            )
        kernel = getattr(self, "kernel", None)
        if kernel is not None and kernel not in SVR_KERNELS:
            raise DeclarationError(
                f"{where}.kernel: {kernel!r} is not a kernel of sklearn.svm.SVR; "
                f"fix: use one of {', '.join(SVR_KERNELS)}"
            )


class TabularSchemaMethods:
    """`source_names` renames a source's columns to attributes of the schema, one
    source column per attribute."""

    def _check_references(self) -> None:
        renames = self.source_names  # type: ignore[attr-defined]
        if not renames:
            return
        where = self._label()  # type: ignore[attr-defined]
        names = [a.name for a in self.attributes]  # type: ignore[attr-defined]
        for source_name, attribute in renames.items():
            if attribute not in names:
                close = difflib.get_close_matches(attribute, names, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise DeclarationError(
                    f"{where}.source_names[{source_name!r}]: {attribute!r} is not an "
                    f"attribute of the schema ({', '.join(names)}); fix: {hint}map each "
                    "source name to one of them"
                )
        renamed: dict[str, str] = {}
        for source_name, attribute in renames.items():
            if attribute in renamed:
                raise DeclarationError(
                    f"{where}.source_names: {renamed[attribute]!r} and {source_name!r} "
                    f"are both renamed to {attribute!r}; fix: rename one source column "
                    "to each attribute"
                )
            renamed[attribute] = source_name
        read: dict[str, str] = {}
        for name in names:
            source_name = renamed.get(name, name)
            if source_name in read:
                raise DeclarationError(
                    f"{where}.source_names: attributes {read[source_name]!r} and {name!r} "
                    f"would both be read from the source's column {source_name!r}; fix: "
                    "give each attribute a source column of its own"
                )
            read[source_name] = name


class CSVEncodingMethods:
    """A delimiter and a quote every reader (Python's csv, DuckDB, R) takes alike."""

    def _check_references(self) -> None:
        where = self._label()  # type: ignore[attr-defined]
        delimiter, quote = self.delimiter, self.quote  # type: ignore[attr-defined]
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise DeclarationError(
                f"{where}.delimiter: {delimiter!r} is not one character other than "
                "a line break or a double quote; fix: pass one, like ';' or '|'"
            )
        if quote not in ('"', "'", ""):
            raise DeclarationError(
                f"{where}.quote: {quote!r} is not a quote character every engine "
                """reads; fix: pass '"' (the default), "'", or '' for none"""
            )
        if quote == delimiter:
            raise DeclarationError(
                f"{where}: the delimiter and the quote are both {quote!r}; "
                "fix: pass different characters"
            )


# What each contract is called in messages, and the types of values it applies to.
CONTRACT_WORDS = {
    "min": "a minimum",
    "max": "a maximum",
    "accepted_values": "a list of accepted values",
    "regex": "a regex",
    "unique": "uniqueness",
}
VALUE_WORDS = {"int": "whole numbers", "float": "numbers", "str": "text", "bool": "True or False"}
# Regex constructs the engines do not share (Python, DuckDB's RE2, Spark's Java,
# PostgreSQL's ARE): a contract must mean the same wherever it is checked.
REGEX_UNSHARED = {
    "(?=": "a lookahead",
    "(?!": "a negative lookahead",
    "(?<=": "a lookbehind",
    "(?<!": "a negative lookbehind",
    "(?P<": "a named group",
    "(?P=": "a named back-reference",
}


class AttributeMethods:
    """An attribute's contracts must fit its kind: a bound on a number, a regex on
    text, accepted values of the column's type, min <= max."""

    def _check_references(self) -> None:
        from aorist._concepts import CONTRACTS

        python = type(self).column_types.get("python")  # type: ignore[attr-defined]
        if python is None:
            return
        label = self._label()  # type: ignore[attr-defined]
        # Declared: not None (and uniqueness asked for); a bound of 0 is declared.
        declared = {
            name: getattr(self, name)
            for name in CONTRACTS
            if getattr(self, name) is not None and getattr(self, name) is not False
        }
        for name in declared:
            if python not in CONTRACTS[name]:
                applies = " or ".join(VALUE_WORDS[kind] for kind in CONTRACTS[name])
                raise DeclarationError(
                    f"{label}.{name}: {CONTRACT_WORDS[name]} applies to {applies}, and "
                    f"{type(self).__name__} holds {VALUE_WORDS[python]}; fix: remove it"
                    + (
                        ", or declare the values with accepted_values"
                        if name != "accepted_values"
                        else ""
                    )
                )
        for name in ("min", "max"):
            if name in declared:
                self._set(name, self._value(f"{label}.{name}", declared[name], python))
        bounds: Any = self  # an Attribute: its fields are set
        if "min" in declared and "max" in declared and bounds.min > bounds.max:
            raise DeclarationError(
                f"{label}.min: {bounds.min!r} is greater than max {bounds.max!r}; "
                "fix: pass min <= max"
            )
        if "regex" in declared:
            self._check_regex(label, declared["regex"])
        if "accepted_values" in declared:
            self._check_accepted(label, declared["accepted_values"], python)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _value(self, where: str, value: Any, python: str) -> Any:
        """`value` as a value of the column's python type (an int bound on a float
        column becomes a float)."""
        fits = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
        }[python]
        if not fits:
            raise DeclarationError(
                f"{where}: {value!r} is not one of the column's values "
                f"({VALUE_WORDS[python]}); fix: pass a value of the column's type"
            )
        return float(value) if python == "float" else value

    def _check_regex(self, label: str, regex: str) -> None:
        where = f"{label}.regex"
        if not regex:
            raise DeclarationError(f"{where}: the regex is empty; fix: remove it, or pass one")
        for construct, word in REGEX_UNSHARED.items():
            if construct in regex:
                raise DeclarationError(
                    f"{where}: {regex!r} uses {word} ({construct}), which not every "
                    "engine that checks it supports; fix: write the pattern without it"
                )
        if re.search(r"\\[1-9]", regex):
            raise DeclarationError(
                f"{where}: {regex!r} uses a back-reference, which not every engine "
                "that checks it supports; fix: write the pattern without it"
            )
        try:
            re.compile(regex)
        except re.error as error:
            raise DeclarationError(
                f"{where}: {regex!r} is not a regular expression ({error}); fix: correct it"
            ) from None

    def _check_accepted(self, label: str, values: list, python: str) -> None:
        where = f"{label}.accepted_values"
        if not values:
            raise DeclarationError(
                f"{where}: the list is empty, so no row could pass; fix: list the "
                "accepted values, or remove the contract"
            )
        checked = [self._value(f"{where}[{i}]", v, python) for i, v in enumerate(values)]
        contract: Any = self  # an Attribute: its fields are set
        for i, value in enumerate(checked):
            if value in checked[:i]:
                raise DeclarationError(
                    f"{where}[{i}]: {value!r} is listed twice; fix: list each value once"
                )
            low, high = contract.min, contract.max
            if (low is not None and value < low) or (high is not None and value > high):
                raise DeclarationError(
                    f"{where}[{i}]: {value!r} is outside min {low!r} and max {high!r}; "
                    "fix: correct the value or the bounds"
                )
            regex = contract.regex
            if regex and not re.fullmatch(regex, value):
                raise DeclarationError(
                    f"{where}[{i}]: {value!r} does not match the regex {regex!r}; "
                    "fix: correct the value or the regex"
                )
        self._set("accepted_values", checked)
