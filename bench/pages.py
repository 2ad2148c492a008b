"""Pages at scale: the annotator's pages in projects of 1,000, 100,000 and 1,000,000
comparisons, the smallest being the reference of the others.

The projects are those of the assignment section (``bench/assign_scale.py``: overlap 2, a
paused batch at the head, 40% judged, 30 live leases, a veteran), each with its own page
annotators (members of that project only, so that their home page lists it alone). Through
a browser session against ``arbiter serve`` (one process), each turn of an annotator times:

- ``GET /``: the home page, with the project's progress and "N pairs you could judge now";
- ``GET /projects/{slug}/annotate``: the labelling page (the live lease, or a new one);
- ``POST .../verdict`` as htmx sends it: the verdict, and the next pair with the progress.

Sizes take turns, round by round. Per size and page: p50 and p95 of the run, median of the
runs; beside each, the same page at the smallest size. ``--before`` migrates to 0004 and
serves another checkout's ``arbiter`` (``--server``): the same pages before the tallies.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from contextlib import ExitStack
from typing import Any

import httpx

from app.accounts import auth
from app.db import Database
from app.models import ProjectMember, Role, User
from bench import assign_scale
from bench.figures import Figure

PAGES = ("home", "labelling page", "verdict (htmx)")
PER_SIZE = 3  # page annotators per size and run
TARGET = "p95 ≤ 2× p95 at 1,000"
PASSWORD = "bench-pages-password"
FORM = re.compile(r'hx-post="(/projects/[^"]+/annotate/\d+/verdict)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def page_users(url: str, projects: dict[int, dict[str, Any]], runs: int) -> dict[int, list[str]]:
    """Per size, ``PER_SIZE × runs`` annotators who may work on that project only."""
    db = Database(url)
    names: dict[int, list[str]] = {}
    with db.scope() as session:
        password_hash = auth.hash_password(PASSWORD)  # one argon2 hash for all of them
        for n, ids in projects.items():
            names[n] = [f"{ids['slug']}-page-{k}" for k in range(PER_SIZE * runs)]
            for name in names[n]:
                user = User(username=name, role=Role.ANNOTATOR, password_hash=password_hash)
                session.add(user)
                session.flush()
                session.add(ProjectMember(project_id=ids["project"], user_id=user.id))
    db.dispose()
    return names


def signed_in(stack: ExitStack, base: str, username: str) -> tuple[httpx.Client, str]:
    """A browser-like client logged in as ``username``, and its CSRF token."""
    client = stack.enter_context(httpx.Client(base_url=base, timeout=300))
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
    if r.status_code != 303 or "login" in r.headers.get("location", ""):
        raise RuntimeError(f"login of {username}: {r.status_code}")
    return client, _csrf(client.get("/").text)


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _timed(call: Any) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = call()
    return (time.perf_counter() - start) * 1000, response


def one_turn(client: httpx.Client, csrf: str, slug: str) -> dict[str, float]:
    """Home page, labelling page, one verdict through htmx: each timed, in ms."""
    home_ms, home = _timed(lambda: client.get("/"))
    page_ms, page = _timed(lambda: client.get(f"/projects/{slug}/annotate"))
    for r in (home, page):
        if r.status_code != 200:
            raise RuntimeError(f"{r.request.url}: {r.status_code}")
    form = FORM.search(page.text)
    if form is None:
        raise RuntimeError(f"no pair left to judge in {slug}")
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    verdict_ms, verdict = _timed(
        lambda: client.post(form.group(1), data={"verdict": "left"}, headers=headers)
    )
    if verdict.status_code != 200:
        raise RuntimeError(f"verdict: {verdict.status_code} {verdict.text[:200]}")
    return {"home": home_ms, "labelling page": page_ms, "verdict (htmx)": verdict_ms}


def run(
    url: str,
    sizes: tuple[int, ...],
    runs: int,
    rounds: int,
    *,
    revision: str = "head",
    server: str | None = None,
) -> list[Figure]:
    """``runs`` runs of ``rounds`` rounds; in each round, each size in turn has each of its
    page annotators of the run take one turn."""
    projects = assign_scale.generate(url, sizes, runs, revision)
    users = page_users(url, projects, runs)
    times: dict[tuple[int, str], list[dict[str, float]]] = {}
    loads: list[float] = []
    with assign_scale.serving(url, server) as base:
        for r in range(runs):
            loads.append(os.getloadavg()[0])
            samples: dict[tuple[int, str], list[float]] = {
                (n, page): [] for n in sizes for page in PAGES
            }
            with ExitStack() as stack:
                clients = {
                    n: [
                        signed_in(stack, base, name)
                        for name in names[r * PER_SIZE : (r + 1) * PER_SIZE]
                    ]
                    for n, names in users.items()
                }
                for _ in range(rounds):
                    for n, ids in projects.items():
                        for client, csrf in clients[n]:
                            for page, ms in one_turn(client, csrf, ids["slug"]).items():
                                samples[(n, page)].append(ms)
            for key, values in samples.items():
                times.setdefault(key, []).append(
                    {
                        "p50": _percentile(values, 0.5),
                        "p95": _percentile(values, 0.95),
                        "count": len(values),
                    }
                )
    figures = []
    for page in PAGES:
        reference = [r["p95"] for r in times[(sizes[0], page)]]
        for n in sizes:
            res = times[(n, page)]
            figures.append(Figure(
                "pages", f"{page}, {n:,} comparisons, p95", "ms", [r["p95"] for r in res],
                reference=reference, reference_name=f"p95 at {sizes[0]:,}", target=TARGET,
                extra={"p50": [r["p50"] for r in res], "requests/run": res[0]["count"],
                       "load": loads},
            ))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.pages --size N ... [--before --server PATH]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--size", type=int, action="append", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--before", action="store_true", help="schema at 0004_scale")
    parser.add_argument("--server", help="the arbiter executable to serve with")
    args = parser.parse_args(argv)
    url = os.environ["ARBITER_BENCH_DATABASE_URL"]
    revision = "0004_scale" if args.before else "head"
    figures = run(url, tuple(args.size), args.runs, args.rounds, revision=revision,
                  server=args.server)  # fmt: skip
    for f in figures:
        p50 = statistics.median(f.extra["p50"])
        print(f"{f.name}: p95 {f.median:,.1f} ms, p50 {p50:,.1f} ms, load {f.extra['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
