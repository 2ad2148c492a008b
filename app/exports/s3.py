"""Delivery to S3 (``--to s3://bucket/prefix/``) with boto3, each object verified by its checksum.

Credentials come from boto3's standard chain (environment, shared config and credentials
files, SSO, instance or container roles); ``endpoint_url`` points at an S3-compatible store.
A file up to ``MULTIPART_THRESHOLD`` is one ``PutObject``; a larger one is a multipart upload
of ``PART_SIZE`` parts. Every request carries the SHA-256 of its bytes, which S3 checks on
arrival, and afterwards the object's own checksum (``HeadObject`` with ``ChecksumMode``) must
equal the one computed here: the SHA-256 of the file, or for a multipart upload the SHA-256 of
the parts' digests followed by ``-N`` (S3's composite checksum).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.errors import DomainError

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"


def parse_s3_uri(uri: str) -> S3Location:
    """``s3://bucket/prefix/`` (the prefix may be empty; a missing final slash is added)."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise DomainError(f"--to takes s3://bucket/prefix/, not {uri!r}", field="to")
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Location(parts.netloc, prefix)


def _same_checksum(found: str | None, expected: str) -> bool:
    """Equal, or a composite checksum given without its ``-N`` part count (as some
    S3-compatible stores give it)."""
    return found == expected or (found is not None and "-" not in found
                                 and found == expected.split("-")[0])  # fmt: skip


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


class S3Uploader:
    def __init__(
        self,
        location: S3Location,
        endpoint_url: str | None = None,
        *,
        threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
    ) -> None:
        try:
            import boto3
        except ImportError:
            raise DomainError("--to needs boto3: pip install 'arbiter[s3]'", field="to") from None
        self.location = location
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)
        self.threshold = threshold
        self.part_size = part_size

    def upload(self, path: Path, name: str) -> str:
        """Upload ``path`` as ``prefix + name``, verify its checksum, return its URI."""
        key = self.location.prefix + name
        try:
            if path.stat().st_size <= self.threshold:
                expected = self._put(path, key)
            else:
                expected = self._multipart(path, key)
            head = self.client.head_object(
                Bucket=self.location.bucket, Key=key, ChecksumMode="ENABLED"
            )
        except DomainError:
            raise
        except Exception as exc:  # botocore's errors, named in the message
            raise DomainError(f"upload of {name} to {self.location.uri(name)} failed: {exc}",
                              field="to") from None  # fmt: skip
        found = head.get("ChecksumSHA256")
        if not _same_checksum(found, expected) or head.get("ContentLength") != path.stat().st_size:
            raise DomainError(
                f"{self.location.uri(name)}: the stored object's checksum {found} is not "
                f"{expected}, the file's",
                field="to",
            )
        return self.location.uri(name)

    def _put(self, path: Path, key: str) -> str:
        data = path.read_bytes()
        checksum = _b64(hashlib.sha256(data).digest())
        self.client.put_object(
            Bucket=self.location.bucket,
            Key=key,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        return checksum

    def _multipart(self, path: Path, key: str) -> str:
        bucket = self.location.bucket
        upload = self.client.create_multipart_upload(
            Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256"
        )
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        digests = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                while data := fh.read(self.part_size):
                    digest = hashlib.sha256(data).digest()
                    digests.update(digest)
                    number = len(parts) + 1
                    sent = self.client.upload_part(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                        Body=data, ChecksumSHA256=_b64(digest),
                    )  # fmt: skip
                    parts.append({"PartNumber": number, "ETag": sent["ETag"],
                                  "ChecksumSHA256": _b64(digest)})  # fmt: skip
            self.client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        return f"{_b64(digests.digest())}-{len(parts)}"
