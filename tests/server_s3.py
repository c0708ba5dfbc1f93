"""Session fixture `s3_server`: a SeaweedFS S3 server that checks credentials.

`weed mini` runs a master, a volume server, a filer and the S3 gateway in one process;
every port is chosen free on 127.0.0.1 and the S3 gateway reads an identity file, so a
request signed with other keys is refused (403). The server is started the first time a
test asks for it and stopped, with its process group, at the end of the session.
`seaweedfs(directory)` is the same server as a context manager, for scripts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pyarrow.fs
import pytest


@dataclasses.dataclass
class S3Server:
    """What a test needs of the running server."""

    host: str
    port: int
    bucket: str
    access_key: str
    secret_key: str
    access_key_env: str = "AORIST_TEST_S3_KEY"
    secret_key_env: str = "AORIST_TEST_S3_SECRET"
    pid: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The environment variables a generated program reads its keys from."""
        return {self.access_key_env: self.access_key, self.secret_key_env: self.secret_key}

    def config(self) -> dict[str, str]:
        """The OBJECT_STORE constant a generated program would hold."""
        return {
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "access_key_env": self.access_key_env,
            "secret_key_env": self.secret_key_env,
        }

    def filesystem(self, **options: object) -> pyarrow.fs.S3FileSystem:
        return pyarrow.fs.S3FileSystem(
            access_key=self.access_key,
            secret_key=self.secret_key,
            endpoint_override=f"{self.host}:{self.port}",
            scheme="http",
            region="us-east-1",
            **options,
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key of the bucket under `prefix`, relative to the bucket."""
        selector = pyarrow.fs.FileSelector(
            f"{self.bucket}/{prefix}".rstrip("/"), recursive=True, allow_not_found=True
        )
        infos = self.filesystem().get_file_info(selector)
        return sorted(
            info.path.removeprefix(self.bucket + "/")
            for info in infos
            if info.type == pyarrow.fs.FileType.File
        )

    def read(self, key: str) -> bytes:
        with self.filesystem().open_input_stream(f"{self.bucket}/{key}") as stream:
            return stream.read()

    def write(self, key: str, data: bytes) -> None:
        with self.filesystem().open_output_stream(f"{self.bucket}/{key}") as stream:
            stream.write(data)

    def clear(self, prefix: str = "") -> None:
        """Delete every object under `prefix` (the whole bucket for "")."""
        filesystem = self.filesystem()
        for key in self.keys(prefix):
            filesystem.delete_file(f"{self.bucket}/{key}")


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextlib.contextmanager
def seaweedfs(directory: str, bucket: str = "lake") -> Iterator[S3Server]:
    """Run SeaweedFS with its data in `directory`; yield the server, bucket made."""
    server = S3Server(
        host="127.0.0.1",
        port=0,
        bucket=bucket,
        access_key="aorist" + secrets.token_hex(6),
        secret_key=secrets.token_hex(20),
    )
    identities = {
        "identities": [
            {
                "name": "aorist",
                "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    config = os.path.join(directory, "s3.json")
    with open(config, "w", encoding="utf-8") as handle:
        json.dump(identities, handle)
    data = os.path.join(directory, "data")
    os.makedirs(data, exist_ok=True)
    names = [
        "s3.port",
        "s3.port.grpc",
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "admin.port",
        "admin.port.grpc",
        "debug.port",
        "s3.port.iceberg",
        "s3.port.lance",
        "metricsPort",
        "webdav.port",
    ]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    server.port = ports["s3.port"]
    command = [
        "weed",
        "mini",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-s3.config={config}",
        "-webdav=false",
        "-master.telemetry=false",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    log = open(os.path.join(directory, "weed.log"), "wb")  # noqa: SIM115
    process = subprocess.Popen(
        command,
        cwd=directory,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server.pid = process.pid
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                log.flush()
                with open(log.name, encoding="utf-8", errors="replace") as handle:
                    raise RuntimeError(f"weed mini exited: {handle.read()[-3000:]}")
            log.flush()
            with open(log.name, encoding="utf-8", errors="replace") as handle:
                # weed mini moves a port it finds taken: its banner has the real one.
                found = re.search(r"S3 Endpoint:\s+http://127\.0\.0\.1:(\d+)", handle.read())
            if time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS S3 did not answer; see {log.name}")
            if found is None:
                time.sleep(0.5)
                continue
            server.port = int(found.group(1))
            try:
                # An unsigned request is refused once the gateway checks keys.
                urllib.request.urlopen(server.endpoint, timeout=2).close()
            except urllib.error.HTTPError as error:
                error.close()
                if error.code in (403, 401):
                    try:
                        server.filesystem(allow_bucket_creation=True).create_dir(bucket)
                        break
                    except OSError:
                        pass
            except OSError:
                pass
            time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with tempfile.TemporaryDirectory(prefix="aorist-s3-") as directory:
        with seaweedfs(directory) as server:
            yield server
