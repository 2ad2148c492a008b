"""A Hugging Face dataset folder (``--hf-dataset DIR``): Parquet shards and a dataset card.

``DIR/data/train-00000-of-0000N.parquet`` (and ``validation-…`` with a split) are written from
the same chunks of JSON lines the JSONL file gets: each chunk is buffered until it holds about
``ROW_GROUP_BYTES`` of JSON, parsed by pyarrow's JSON reader against the format's fixed schema
and written as one row group, so memory stays flat whatever the size of the export. A shard is
closed once it has taken ``SHARD_BYTES`` of JSON; shard names get their count at the end.
``DIR/README.md`` is the dataset card (``dataset_card``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import DomainError
from app.exports.params import Split

ROW_GROUP_BYTES = 8 * 1024 * 1024
SHARD_BYTES = 256 * 1024 * 1024


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.json
        import pyarrow.parquet
    except ImportError:
        raise DomainError(
            "--hf-dataset needs pyarrow: pip install 'arbiter[hf]'", field="hf_dataset"
        ) from None
    return pyarrow


def _message_list(pa: Any) -> Any:
    return pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def schema_of(fmt: str) -> Any:
    """The Arrow schema of a format's rows; DomainError for a format with no fixed schema."""
    pa = _pyarrow()
    messages = _message_list(pa)
    if fmt == "trl-dpo":
        return pa.schema([("prompt", messages), ("chosen", messages), ("rejected", messages)])
    if fmt == "kto":
        return pa.schema([("prompt", messages), ("completion", messages), ("label", pa.bool_())])
    raise DomainError(
        f"--hf-dataset writes the formats TRL trains on (trl-dpo, kto), not {fmt}",
        field="hf_dataset",
    )


@dataclass
class Shard:
    path: Path
    rows: int = 0
    json_bytes: int = 0
    #: The rows' size in memory as Arrow holds them (the card's ``num_bytes``).
    arrow_bytes: int = 0


@dataclass
class _SplitWriter:
    folder: Path
    split: Split
    schema: Any
    shard_bytes: int
    row_group_bytes: int
    shards: list[Shard] = field(default_factory=list)
    pending: list[bytes] = field(default_factory=list)
    pending_bytes: int = 0
    writer: Any = None

    def write(self, chunk: bytes) -> None:
        self.pending.append(chunk)
        self.pending_bytes += len(chunk)
        if self.pending_bytes >= self.row_group_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.pending:  # an empty split gets no shard (datasets cannot read one)
            return
        pa = _pyarrow()
        data = b"".join(self.pending)
        self.pending.clear()
        self.pending_bytes = 0
        if self.writer is None or self.shards[-1].json_bytes >= self.shard_bytes:
            self._next_shard(pa)
        options = pa.json.ParseOptions(
            explicit_schema=self.schema, unexpected_field_behavior="error"
        )
        table = pa.json.read_json(io.BytesIO(data), parse_options=options)
        self.writer.write_table(table)
        self.shards[-1].rows += table.num_rows
        self.shards[-1].json_bytes += len(data)
        self.shards[-1].arrow_bytes += table.nbytes

    def _next_shard(self, pa: Any) -> None:
        if self.writer is not None:
            self.writer.close()
        path = self.folder / f"{self.split}-{len(self.shards):05d}.parquet.part"
        self.writer = pa.parquet.ParquetWriter(path, self.schema, compression="zstd")
        self.shards.append(Shard(path))

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass(frozen=True)
class ParquetFile:
    path: str
    rows: int
    bytes: int
    sha256: str
    arrow_bytes: int


class HfDatasetWriter:
    """Receives ``(split, chunk)`` like the JSONL files do; ``finish()`` names the shards."""

    def __init__(
        self,
        folder: Path,
        fmt: str,
        splits: tuple[Split, ...],
        *,
        shard_bytes: int = SHARD_BYTES,
        row_group_bytes: int = ROW_GROUP_BYTES,
    ) -> None:
        self.folder = folder
        self.data = folder / "data"
        schema = schema_of(fmt)
        self.schema = schema
        self.data.mkdir(parents=True, exist_ok=True)
        self.splits = {
            split: _SplitWriter(self.data, split, schema, shard_bytes, row_group_bytes)
            for split in splits
        }

    def write(self, split: Split, chunk: bytes) -> None:
        self.splits[split].write(chunk)

    def abort(self) -> None:
        for writer in self.splits.values():
            if writer.writer is not None:
                writer.writer.close()
            for shard in writer.shards:
                shard.path.unlink(missing_ok=True)

    def finish(self) -> dict[Split, list[ParquetFile]]:
        """Close every shard, replace the split's old shards, and give each its final name."""
        found: dict[Split, list[ParquetFile]] = {}
        for split, writer in self.splits.items():
            writer.close()
            for old in self.data.glob(f"{split}-*-of-*.parquet"):
                old.unlink()
            total = len(writer.shards)
            files = []
            for i, shard in enumerate(writer.shards):
                final = shard.path.replace(self.data / f"{split}-{i:05d}-of-{total:05d}.parquet")
                files.append(ParquetFile(str(final.relative_to(self.folder)), shard.rows,
                                         final.stat().st_size, _sha256(final),
                                         shard.arrow_bytes))  # fmt: skip
            found[split] = files
        return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def features_yaml(schema: Any) -> list[dict[str, Any]]:
    """``dataset_info.features`` in the card's YAML spelling (``datasets.Features``'s own)."""
    pa = _pyarrow()
    return [_feature(pa, f.name, f.type) for f in schema]


def _feature(pa: Any, name: str, kind: Any) -> dict[str, Any]:
    if pa.types.is_list(kind) and pa.types.is_struct(kind.value_type):
        fields = kind.value_type
        return {"name": name, "list": [_feature(pa, fields.field(i).name, fields.field(i).type)
                                       for i in range(fields.num_fields)]}  # fmt: skip
    dtype = "bool" if pa.types.is_boolean(kind) else "string"
    return {"name": name, "dtype": dtype}
