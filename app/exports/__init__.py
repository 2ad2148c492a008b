"""Exports: labels in, training files out (FORMATS.md §2–7).

consensus.py   votes per comparison (aggregate SQL) and what they add up to
source.py      the project's labels, streamed one prompt at a time from a server-side cursor
derive.py      preference pairs and single-candidate labels from the votes
base.py        Row / LeftOut / Format: what a format module provides
chat.py        OpenAI/TRL chat messages, built and checked
<format>.py    one module per format: build (a pure generator) and check (the rules)
registry.py    the formats by name
params.py      ExportParams, validated at the boundary
run.py         plan_export and ExportRun: one pass, lines and tallies per file, manifests
service.py     to files (CLI), to an HTTP client, and the audit log
"""

from app.exports.params import ExportParams, describe
from app.exports.registry import FORMATS
from app.exports.run import ExportPlan, ExportRun, plan_export
from app.exports.service import (
    PreviewFile,
    WrittenFile,
    download_name,
    export_to_files,
    list_exports,
    preview_export,
    stream_download,
)

__all__ = [
    "FORMATS",
    "ExportParams",
    "ExportPlan",
    "ExportRun",
    "PreviewFile",
    "WrittenFile",
    "describe",
    "download_name",
    "export_to_files",
    "list_exports",
    "plan_export",
    "preview_export",
    "stream_download",
]
