"""GH Archive: one hour of the public GitHub timeline (1 January 2015, 15:00-16:00 UTC).

Each row is one public event on GitHub (a push, a new repository, an issue comment, a
star, ...) as GitHub's Events API reported it, recorded by GH Archive: the event id,
its type, the actor, the repository, the type-specific payload, whether it is public,
when it happened, and the organisation when there is one. GH Archive publishes one
gzip-compressed JSON-lines file per hour since 2011; events from 2015 on come from the
Events API. Actor, repo, payload and org are nested objects, kept as JSON text.

Source: https://www.gharchive.org/; file at https://data.gharchive.org/2015-01-01-15.json.gz
Licence: no licence is stated for the archive; the events are public GitHub data under
    GitHub's terms of service (GH Archive's code is MIT-licensed).
Size: not published by GH Archive; an hourly file of early 2015 holds thousands of events
    and is a few megabytes compressed.
Schema: id (KeyStringIdentifier), type (Categorical), actor, repo, payload (JSON), public
    (Boolean), created_at (ISO8601Timestamp), org (JSON, nullable).
Checksum: none published by GH Archive; sha256 is left None.
Samples:
    events_2015_01_01_15: {"id":"2489651045","type":"CreateEvent","actor":{"id":665991,"login":"petroav","gravatar_id":"","url":"https://api.github.com/users/petroav","avatar_url":"https://avatars.githubusercontent.com/u/665991?"},"repo":{"id":28688495,"name":"petroav/6.828","url":"https://api.github.com/repos/petroav/6.828"},"payload":{"ref":"master","ref_type":"branch","master_branch":"master","description":"Solution to homework and assignments from MIT's 6.828 (Operating Systems Engineering). Done in my spare time.","pusher_type":"user"},"public":true,"created_at":"2015-01-01T15:00:00Z"}
"""  # noqa: E501

from __future__ import annotations

from aorist import (
    JSON,
    Boolean,
    Categorical,
    DataSet,
    GzipCompression,
    ISO8601Timestamp,
    KeyStringIdentifier,
    NewlineDelimitedJSONEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

event = RowStruct(
    name="event",
    attributes=[
        KeyStringIdentifier("id", comment="event id (a decimal string)"),
        Categorical("type", comment="e.g. PushEvent, CreateEvent, WatchEvent"),
        JSON("actor", comment="who acted: id, login, gravatar_id, url, avatar_url"),
        JSON("repo", comment="the repository: id, name, url"),
        JSON("payload", comment="what happened; its fields depend on the type"),
        Boolean("public"),
        ISO8601Timestamp("created_at", comment="UTC, e.g. 2015-01-01T15:00:00Z"),
        JSON("org", comment="the organisation, for events in one", nullable=True),
    ],
)

gharchive = DataSet(
    name="gharchive",
    description="GH Archive: public GitHub events of 2015-01-01 15:00-16:00 UTC",
    datum_templates=[event],
    assets=[
        StaticDataTable(
            name="events_2015_01_01_15",
            schema=default_tabular_schema(event),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://data.gharchive.org/2015-01-01-15.json.gz"
                    ),
                    encoding=NewlineDelimitedJSONEncoding(compression=GzipCompression()),
                    sha256=None,
                )
            ),
            tag="gharchive",
        )
    ],
)
