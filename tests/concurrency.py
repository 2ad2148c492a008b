"""Helpers for the tests that label from many threads or processes at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.annotation.judge import ScreenVerdict

VERDICTS = list(ScreenVerdict)


def verdict_for(comparison_id: int) -> ScreenVerdict:
    """One verdict per pair, so two threads of one person sending it both are a repeat."""
    return VERDICTS[comparison_id % len(VERDICTS)]


def run_all(jobs: list[Callable[[], int]]) -> list[int]:
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], int]) -> int:
        start.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def lease_and_judge(client: httpx.Client, slug: str) -> tuple[int, int]:
    """Lease and judge through the API until it answers 204: (lease requests, verdicts made)."""
    leases = made = 0
    while True:
        lease = client.post(f"/api/v1/projects/{slug}/assignments")
        leases += 1
        if lease.status_code == 204:
            return leases, made
        assert lease.status_code == 201, lease.text
        body = lease.json()
        verdict = verdict_for(body["comparison_id"]).value
        response = client.post(f"/api/v1/assignments/{body['id']}/judgement",
                               json={"verdict": verdict})  # fmt: skip
        assert response.status_code in (200, 201), response.text
        made += response.status_code == 201
