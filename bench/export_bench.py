"""Export of every format through Arbiter's CLI path beside Postgres writing the same rows
as JSON itself (``COPY (SELECT json_build_object(...)) TO STDOUT``).

The labelled project is generated once per size, straight into the tables with COPY
(``bench.data`` rows: prompts of ~300 characters, two candidates of ~1,500, one in five
Japanese; three annotators on most comparisons with a mix of verdicts, ties and "both bad"
included, so consensus has work to do; good/bad ratings on some candidates). Each export runs
in a child process (`arbiter export`, exactly what an operator runs, in-process so the timer
leaves out Python's start-up) and reports its own wall time, CPU time and peak memory above
its size before the export. The reference runs right after it in this process: the same rows
(for openai-dpo the same JSON shape; for the other formats the closest equivalent), the
consensus computed in SQL, read with psycopg's ``copy()`` and written to a file.

    python -m bench --only export            # or: python -m bench.export_bench --sizes 2000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.data import rows as data_rows
from bench.figures import Figure
from bench.pg import bench_url, psycopg_url, reset_schema

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "bench-export"
SECRET = "bench-secret-that-is-long-enough-0123456789"
ANNOTATORS = 8
FORMATS = ("openai-dpo", "trl-dpo", "nova-dpo", "openai-sft", "kto", "judgements")

# Verdicts of the annotators on one comparison, in turn: most give an a/b consensus; the rest
# are disputed, tie, both bad, or a/b below agreement, so consensus has every case to decide.
VOTES = [("a", "a", "b"), ("b", "b", "b"), ("a", "b", "tie"), ("tie", "tie", "a"),
         ("both_bad", "both_bad", "b"), ("a", "a"), ("b", "a", "b"), ("a",), ("b", "b", "tie"),
         ("a", "a", "a")]  # fmt: skip

CHILD = """
import io, json, os, resource, sys, time, contextlib
import psycopg
from sqlalchemy.orm import configure_mappers
from app.cli.main import cli
configure_mappers()
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
cpu_start, start = cpu(), time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    cli(sys.argv[1:], standalone_mode=False)
elapsed, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec,
# so a child of a large benchmark process would report the parent's size.
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:")) * 1024
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu_seconds,
                  "peak_mb": max(0, peak - before) / 2**20}))
"""


def generate(url: str, n: int) -> None:
    """A fresh schema holding one project with ``n`` labelled comparisons (one per prompt)."""
    reset_schema(url)
    env = {**os.environ, "ARBITER_DATABASE_URL": url}
    arbiter = str(Path(sys.executable).parent / "arbiter")
    subprocess.run([arbiter, "db", "upgrade"], env=env, check=True, capture_output=True)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO projects (id, name, slug, guidelines, overlap, allow_tie,"
            " allow_both_bad, rationale, rate_singletons, created_at)"
            " VALUES (1, %s, %s, '', 3, true, true, 'optional', true, %s)",
            (PROJECT, PROJECT, when),
        )
        cur.execute(
            "INSERT INTO batches (id, project_id, name, created_at, counts, status)"
            " VALUES (1, 1, 'generated', %s, '{}', 'active')",
            (when,),
        )
        for u in range(1, ANNOTATORS + 1):
            cur.execute(
                "INSERT INTO users (id, username, password_hash, role, is_active, created_at)"
                " VALUES (%s, %s, '!', 'annotator', true, %s)",
                (u, f"annotator-{u}", when),
            )
        _copy_labels(cur, n, when)
        for table in ("projects", "batches", "users", "prompts", "candidates", "comparisons",
                      "judgements", "ratings"):  # fmt: skip
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum would, before anyone exports


def _copy_labels(cur: psycopg.Cursor[Any], n: int, when: datetime) -> None:
    prompts = cur.copy(
        "COPY prompts (id, project_id, batch_id, external_id, system, messages, content_hash)"
        " FROM STDIN"
    )
    candidates = cur.copy("COPY candidates (id, prompt_id, content, content_hash) FROM STDIN")
    with prompts as copy:
        for i, row in enumerate(data_rows(n), start=1):
            system = "You are a careful assistant. Answer briefly." if i % 3 == 0 else None
            messages = orjson.dumps([{"role": "user", "content": row["prompt"]}]).decode()
            digest = hashlib.sha256(str(row["prompt"]).encode()).hexdigest()
            copy.write_row((i, 1, 1, row["id"], system, messages, digest))
    with candidates as copy:
        for i, row in enumerate(data_rows(n), start=1):
            texts: list[str] = row["candidates"]  # type: ignore[assignment]
            for k, text in enumerate(texts):
                digest = hashlib.sha256(text.encode()).hexdigest()
                copy.write_row((2 * i - 1 + k, i, text, digest))
    with cur.copy(
        "COPY comparisons (id, project_id, batch_id, prompt_id, candidate_a_id, candidate_b_id,"
        " judgement_count) FROM STDIN"
    ) as copy:
        for i in range(1, n + 1):
            copy.write_row((i, 1, 1, i, 2 * i - 1, 2 * i, len(VOTES[i % len(VOTES)])))
    with cur.copy(
        "COPY judgements (comparison_id, user_id, verdict, strength, rationale,"
        " left_candidate_id, duration_ms, created_at, updated_at) FROM STDIN"
    ) as copy:
        for i in range(1, n + 1):
            for k, verdict in enumerate(VOTES[i % len(VOTES)]):
                at = when + timedelta(seconds=i * 3 + k)
                rationale = "clearer and shorter" if (i + k) % 4 == 0 else None
                copy.write_row((i, (i + k) % ANNOTATORS + 1, verdict, 1 + (i + k) % 2, rationale,
                                2 * i - 1 + (i + k) % 2, 2_000 + i % 5_000, at, at))  # fmt: skip
    with cur.copy("COPY ratings (candidate_id, user_id, good, created_at) FROM STDIN") as copy:
        for i in range(1, n + 1, 4):  # one comparison in four has its candidates rated
            for k, good in enumerate((i % 8 != 1, False)):
                copy.write_row((2 * i - 1 + k, (i + k) % ANNOTATORS + 1, good, when))


def arbiter_export(url: str, fmt: str, output: Path, *extra: str) -> dict[str, Any]:
    """One `arbiter export` in a child process: its seconds, CPU seconds, peak MB, rows, bytes."""
    env = {**os.environ, "ARBITER_DATABASE_URL": url, "ARBITER_SECRET_KEY": SECRET}
    command = [sys.executable, "-c", CHILD, "export", "--project", PROJECT, "--format", fmt,
               "--output", str(output), *extra]  # fmt: skip
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    manifest = json.loads(Path(f"{output}.manifest.json").read_text(encoding="utf-8"))
    result.update(rows=manifest["rows"], bytes=manifest["bytes"])
    return result


# Consensus in SQL, as app/exports/consensus.py decides it with the default thresholds
# (min_votes 1, min_agreement 0.5): the verdict with strictly the most votes, at least half.
VOTES_SQL = """
votes AS (
    SELECT c.id, c.prompt_id, c.candidate_a_id, c.candidate_b_id,
           count(*) FILTER (WHERE j.verdict = 'a') AS a,
           count(*) FILTER (WHERE j.verdict = 'b') AS b,
           count(*) FILTER (WHERE j.verdict = 'tie') AS tie,
           count(*) FILTER (WHERE j.verdict = 'both_bad') AS both_bad,
           count(*) AS total
    FROM comparisons c JOIN judgements j ON j.comparison_id = c.id
    WHERE c.project_id = 1
    GROUP BY c.id
),
decided AS (
    SELECT v.*,
           CASE WHEN a > greatest(b, tie, both_bad) AND 2 * a >= total THEN 'a'
                WHEN b > greatest(a, tie, both_bad) AND 2 * b >= total THEN 'b'
                WHEN both_bad > greatest(a, b, tie) AND 2 * both_bad >= total THEN 'both_bad'
           END AS outcome
    FROM votes v
),
pairs AS (
    SELECT d.id, d.prompt_id,
           CASE WHEN outcome = 'a' THEN candidate_a_id ELSE candidate_b_id END AS winner,
           CASE WHEN outcome = 'a' THEN candidate_b_id ELSE candidate_a_id END AS loser
    FROM decided d WHERE outcome IN ('a', 'b')
)
"""
MESSAGES = """(CASE WHEN p.system IS NULL THEN p.messages::json
      ELSE (jsonb_build_array(jsonb_build_object('role', 'system', 'content', p.system))
            || p.messages)::json END)"""
ASSISTANT = "json_build_array(json_build_object('role', 'assistant', 'content', {}.content))"
PAIR_JOINS = """FROM pairs x JOIN prompts p ON p.id = x.prompt_id
    JOIN candidates w ON w.id = x.winner JOIN candidates l ON l.id = x.loser ORDER BY x.id"""

REFERENCE: dict[str, str] = {
    "openai-dpo": f"""WITH {VOTES_SQL}
SELECT json_build_object(
    'input', json_build_object('messages', {MESSAGES}, 'tools', '[]'::json,
                               'parallel_tool_calls', true),
    'preferred_output', {ASSISTANT.format("w")},
    'non_preferred_output', {ASSISTANT.format("l")})
{PAIR_JOINS}""",
    "trl-dpo": f"""WITH {VOTES_SQL}
SELECT json_build_object('prompt', {MESSAGES}, 'chosen', {ASSISTANT.format("w")},
                         'rejected', {ASSISTANT.format("l")})
{PAIR_JOINS}""",
    "nova-dpo": f"""WITH {VOTES_SQL}
SELECT json_build_object(
    'schemaVersion', 'bedrock-conversation-2024',
    'system', json_build_array(json_build_object('text', p.system)),
    'messages', json_build_array(
        json_build_object('role', 'user', 'content',
                          json_build_array(json_build_object('text', p.messages->0->>'content'))),
        json_build_object('role', 'assistant', 'candidates', json_build_array(
            json_build_object('content', json_build_array(json_build_object('text', w.content)),
                              'preferenceLabel', 'preferred'),
            json_build_object('content', json_build_array(json_build_object('text', l.content)),
                              'preferenceLabel', 'non-preferred')))))
{PAIR_JOINS}""",
    "openai-sft": f"""WITH {VOTES_SQL}
SELECT json_build_object('messages', (({MESSAGES})::jsonb || jsonb_build_array(
    jsonb_build_object('role', 'assistant', 'content', w.content)))::json)
{PAIR_JOINS}""",
    # One row per candidate labelled by its ratings' majority or by a "both bad" consensus.
    "kto": f"""WITH {VOTES_SQL},
labels AS (
    SELECT r.candidate_id AS id, count(*) FILTER (WHERE r.good) > count(*) FILTER (WHERE NOT r.good)
           AS label
    FROM ratings r JOIN candidates c ON c.id = r.candidate_id JOIN prompts p ON p.id = c.prompt_id
    WHERE p.project_id = 1 GROUP BY r.candidate_id
    HAVING count(*) FILTER (WHERE r.good) <> count(*) FILTER (WHERE NOT r.good)
    UNION
    SELECT unnest(ARRAY[candidate_a_id, candidate_b_id]), false FROM decided
    WHERE outcome = 'both_bad'
)
SELECT json_build_object('prompt', {MESSAGES}, 'completion', {ASSISTANT.format("w")},
                         'label', x.label)
FROM labels x JOIN candidates w ON w.id = x.id JOIN prompts p ON p.id = w.prompt_id
ORDER BY x.id""",
    "judgements": """SELECT json_build_object(
    'comparison_id', j.comparison_id, 'prompt_id', c.prompt_id,
    'prompt_external_id', p.external_id, 'candidate_a_id', c.candidate_a_id,
    'candidate_b_id', c.candidate_b_id, 'verdict', j.verdict,
    'left_candidate_id', j.left_candidate_id, 'annotator', 'ann-' || j.user_id,
    'strength', j.strength, 'rationale', j.rationale, 'duration_ms', j.duration_ms,
    'created_at', to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
FROM judgements j JOIN comparisons c ON c.id = j.comparison_id
    JOIN prompts p ON p.id = c.prompt_id
WHERE c.project_id = 1 ORDER BY c.prompt_id, j.comparison_id, j.id""",
}


def postgres_copy(url: str, fmt: str, output: Path) -> dict[str, Any]:
    """Postgres writing the format's rows as JSON, read by psycopg's copy() into a file."""
    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor() as cur:
        conn.execute("SELECT 1")
        start = time.perf_counter()
        rows = size = 0
        with output.open("wb") as fh, cur.copy(f"COPY ({REFERENCE[fmt]}) TO STDOUT") as copy:
            for chunk in copy:
                fh.write(chunk)
                rows += bytes(chunk).count(b"\n")
                size += len(chunk)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "bytes": size}


def load_average() -> float:
    return os.getloadavg()[0]


def run(url: str, sizes: tuple[int, ...], runs: int, formats: tuple[str, ...] = FORMATS
        ) -> list[Figure]:  # fmt: skip
    """Per size: generate, then per format ``runs`` times the export then the reference, back
    to back so that each ratio compares measurements taken under the same load."""
    figures: list[Figure] = []
    peaks: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            generate(url, n)
            for fmt in formats:
                ours: list[dict[str, Any]] = []
                ref: list[dict[str, Any]] = []
                loads: list[float] = []
                for i in range(runs):
                    loads.append(load_average())
                    ours.append(arbiter_export(url, fmt, Path(tmp) / f"{fmt}-{n}-{i}.jsonl"))
                    ref.append(postgres_copy(url, fmt, Path(tmp) / f"{fmt}-{n}-{i}.copy"))
                    for leftover in Path(tmp).iterdir():
                        leftover.unlink()
                peaks[fmt, n] = [r["peak_mb"] for r in ours]
                figures.append(_figure(fmt, n, ours, ref, loads))
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for figure in figures:
            fmt = figure.name.split()[0]
            if figure.name.endswith(f" {large:,} comparisons"):
                growth = _median(peaks[fmt, large]) - _median(peaks[fmt, small])
                figure.extra["peak_mb_minus_smallest"] = growth
    return figures


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _figure(
    fmt: str, n: int, ours: list[dict[str, Any]], ref: list[dict[str, Any]], loads: list[float]
) -> Figure:
    rows = ours[0]["rows"]
    target = "time ≤ 2× COPY; peak memory at 200,000 within 50 MB of 10,000"
    if fmt == "openai-dpo":
        target = "≥ 20,000 rows/s; " + target
    return Figure(
        "export", f"{fmt} {n:,} comparisons", "rows/s",
        [max(rows, 1) / r["seconds"] for r in ours],
        reference=[max(r["rows"], 1) / r["seconds"] for r in ref],
        reference_name="COPY (SELECT json_build_object…) TO STDOUT",
        target=target,
        extra={"time_ratio": [o["seconds"] / r["seconds"] for o, r in zip(ours, ref, strict=True)],
               "MB/s": [o["bytes"] / 1e6 / o["seconds"] for o in ours],
               "COPY MB/s": [r["bytes"] / 1e6 / r["seconds"] for r in ref],
               "rows": rows, "COPY rows": ref[0]["rows"],
               "peak_mb": [o["peak_mb"] for o in ours],
               "cpu_share": [o["cpu_seconds"] / o["seconds"] for o in ours],
               "load": loads},
    )  # fmt: skip


PARQUET_FORMAT = "trl-dpo"


def parquet_run(url: str, sizes: tuple[int, ...], runs: int) -> list[Figure]:
    """Peak memory of `arbiter export --hf-dataset` (the JSONL file and the Parquet folder in one
    pass) beside the same export to JSONL alone, per size: flat means the largest size's peak
    stays near the smallest's."""
    figures: list[Figure] = []
    peaks: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            generate(url, n)
            ours: list[dict[str, Any]] = []
            ref: list[dict[str, Any]] = []
            for i in range(runs):
                folder = Path(tmp) / f"hf-{n}-{i}"
                ours.append(arbiter_export(url, PARQUET_FORMAT, Path(tmp) / f"p-{n}-{i}.jsonl",
                                           "--hf-dataset", str(folder)))  # fmt: skip
                ours[-1]["parquet_bytes"] = sum(f.stat().st_size for f in folder.rglob("*.parquet"))
                ref.append(arbiter_export(url, PARQUET_FORMAT, Path(tmp) / f"j-{n}-{i}.jsonl"))
                for leftover in Path(tmp).rglob("*"):
                    if leftover.is_file():
                        leftover.unlink()
            peaks[n] = [r["peak_mb"] for r in ours]
            figures.append(Figure(
                "parquet", f"{PARQUET_FORMAT} to Parquet {n:,} comparisons", "MB peak",
                [r["peak_mb"] for r in ours], reference=[max(r["peak_mb"], 0.01) for r in ref],
                reference_name="the same export to JSONL only (peak MB)",
                target="peak memory at 200,000 within 50 MB of 10,000 (flat)",
                extra={"rows": ours[0]["rows"], "seconds": [r["seconds"] for r in ours],
                       "JSONL seconds": [r["seconds"] for r in ref],
                       "parquet_bytes": ours[0]["parquet_bytes"]},
            ))  # fmt: skip
            figures.append(Figure(
                "parquet", f"{PARQUET_FORMAT} to Parquet {n:,} comparisons: rows/s", "rows/s",
                [r["rows"] / r["seconds"] for r in ours],
                reference=[r["rows"] / r["seconds"] for r in ref],
                reference_name="the same export to JSONL only (rows/s)",
                target="none: JSONL and the Parquet folder in one pass, beside JSONL alone",
                extra={"rows": ours[0]["rows"], "peak_mb": [r["peak_mb"] for r in ours]},
            ))  # fmt: skip
    if len(sizes) > 1:
        growth = _median(peaks[max(sizes)]) - _median(peaks[min(sizes)])
        figures[-2].extra["peak_mb_minus_smallest"] = growth  # the largest size's peak figure
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--format", action="append", choices=FORMATS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    url = bench_url()
    if url is None:
        sys.exit(2)
    from bench.__main__ import show

    show(run(url, tuple(args.sizes), args.runs, tuple(args.format or FORMATS)))


if __name__ == "__main__":
    main()
