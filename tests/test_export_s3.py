"""`arbiter export --to s3://bucket/prefix/`: the files, the job configs, the dataset folder and
the manifests uploaded with boto3, each verified by its checksum, against moto's S3 server
started here on 127.0.0.1 (never a real cloud); the objects round-trip byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.db import Database
from app.errors import DomainError
from app.exports.s3 import S3Uploader, _same_checksum, parse_s3_uri
from tests.factories_labels import make_mixed_project
from tests.live import free_port

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")
BUCKET = "arbiter-exports"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(),
                                             verbose=False)  # fmt: skip
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client of the emulator with an empty bucket; credentials through the standard chain
    (here the environment)."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def objects(s3: Any) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def test_an_export_round_trips_through_s3(arbiter, db: Database, s3: Any, endpoint: str,  # type: ignore[no-untyped-def]
                                          tmp_path: Path) -> None:  # fmt: skip
    with db.scope() as session:
        make_mixed_project(session)
    out = tmp_path / "prefs.jsonl"
    printed = arbiter("export", "--project", "mixed", "--format", "trl-dpo", "--output", str(out),
                      "--validation-fraction", "0.7", "--hf-dataset", str(tmp_path / "hf"),
                      "--job-configs", "--to", f"s3://{BUCKET}/run-1",
                      "--endpoint-url", endpoint)  # fmt: skip
    stored = objects(s3)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "arbiter.db" not in p.name]
    local = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in written}
    assert stored == {f"run-1/{name}": data for name, data in local.items()}, "byte-identical"
    manifest = json.loads(stored["run-1/prefs.jsonl.manifest.json"])
    assert manifest["sha256"] == hashlib.sha256(stored["run-1/prefs.jsonl"]).hexdigest()
    uploaded = manifest["uploaded"]
    assert set(uploaded) == set(local)
    assert all(uri == f"s3://{BUCKET}/run-1/{name}" for name, uri in uploaded.items())
    assert "hf/data/train-00000-of-00001.parquet" in uploaded
    assert manifest["job_configs"][0]["file"] == "prefs.jsonl.trl-dpo.yaml"
    twin = json.loads(stored["run-1/prefs.validation.jsonl.manifest.json"])
    assert twin["uploaded"] == uploaded
    config = yaml.safe_load(stored["run-1/prefs.jsonl.trl-dpo.yaml"])
    assert config["dataset_name"] == str(tmp_path / "hf"), "TRL loads the local folder"
    recorded = json.loads(arbiter_history(db))
    assert recorded[0]["uploaded"] == uploaded, "the recorded export names the URIs too"
    assert f"uploaded {len(uploaded)} objects, e.g. s3://{BUCKET}/run-1/prefs.jsonl" in printed
    assert "job config: prefs.jsonl.trl-dpo.yaml" in printed
    assert "(1 Parquet file)" in printed


def arbiter_history(db: Database) -> str:
    from app.exports import list_exports
    from app.projects import get_project

    with db.read_only() as session:
        found = list_exports(session, get_project(session, "mixed"))
    return json.dumps([{k: v for k, v in e.items() if k != "id"} for e in found])


def test_a_large_file_goes_up_in_parts_and_is_verified(s3: Any, endpoint: str,
                                                       tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "big.jsonl"
    path.write_bytes(os.urandom(11 * 1024 * 1024))
    uploader = S3Uploader(parse_s3_uri(f"s3://{BUCKET}/p/"), endpoint,
                          threshold=6 * 1024 * 1024, part_size=5 * 1024 * 1024)  # fmt: skip
    assert uploader.upload(path, "big.jsonl") == f"s3://{BUCKET}/p/big.jsonl"
    assert objects(s3)["p/big.jsonl"] == path.read_bytes()
    head = s3.head_object(Bucket=BUCKET, Key="p/big.jsonl", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"], "the object carries its SHA-256 checksum"


def test_a_checksum_that_differs_is_refused() -> None:
    assert _same_checksum("abc=-3", "abc=-3")
    assert _same_checksum("abc=", "abc=-3"), "a composite checksum without its part count"
    assert not _same_checksum("abd=", "abc=")
    assert not _same_checksum(None, "abc=")


def test_a_missing_bucket_is_an_error_that_names_it(s3: Any, endpoint: str,
                                                    tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"{}\n")
    uploader = S3Uploader(parse_s3_uri("s3://no-such-bucket/p/"), endpoint)
    with pytest.raises(DomainError, match=re.escape("s3://no-such-bucket/p/x.jsonl")):
        uploader.upload(path, "x.jsonl")


@pytest.mark.parametrize("uri", ["https://bucket/x/", "s3://", "s3:///prefix/", "bucket/prefix"])
def test_a_bad_destination_is_refused_before_anything_is_exported(
    arbiter: Any, tmp_path: Path, uri: str
) -> None:
    out = tmp_path / "x.jsonl"
    printed = arbiter("export", "--project", "mixed", "--format", "trl-dpo", "--output", str(out),
                      "--to", uri, code=2)  # fmt: skip
    assert "--to takes s3://bucket/prefix/" in printed
    assert not out.exists()


def test_the_prefix_gets_its_final_slash() -> None:
    assert parse_s3_uri("s3://b/a/b").uri("f") == "s3://b/a/b/f"
    assert parse_s3_uri("s3://b").uri("f") == "s3://b/f"


def test_without_boto3_the_cli_names_the_extra(  # type: ignore[no-untyped-def]
    arbiter, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.scope() as session:
        make_mixed_project(session)
    monkeypatch.setitem(sys.modules, "boto3", None)
    printed = arbiter("export", "--project", "mixed", "--format", "trl-dpo", "--output",
                      str(tmp_path / "x.jsonl"), "--to", f"s3://{BUCKET}/p/", code=1)  # fmt: skip
    assert "pip install 'arbiter[s3]'" in printed


def test_the_nova_recipe_reads_the_uploaded_file(  # type: ignore[no-untyped-def]
    arbiter, db: Database, s3: Any, endpoint: str, tmp_path: Path
) -> None:
    with db.scope() as session:
        make_mixed_project(session)
    out = tmp_path / "nova.jsonl"
    arbiter("export", "--project", "mixed", "--format", "nova-dpo", "--output", str(out),
            "--job-configs", "--to", f"s3://{BUCKET}/n/", "--endpoint-url", endpoint)  # fmt: skip
    recipe = yaml.safe_load(objects(s3)["n/nova.jsonl.nova-recipe.yaml"])
    assert recipe["run"]["data_s3_path"] == f"s3://{BUCKET}/n/nova.jsonl"
