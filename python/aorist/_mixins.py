"""Hand-written behaviour of generated concept classes (named by `mixin` in concepts.toml)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aorist.errors import DeclarationError

if TYPE_CHECKING:
    from aorist._base import Field
    from aorist._concepts import Asset, DataSet, Encoding, Storage


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
