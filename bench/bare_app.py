"""The labelling benchmark's reference: a bare FastAPI app whose one endpoint does one INSERT.

Served by uvicorn exactly as ``arbiter serve`` serves Arbiter (same worker count), under the
same load generator: what one HTTP request with one round trip to Postgres costs on this
machine, with nothing else (no auth, no session, no ORM objects).

    ARBITER_DATABASE_URL=postgresql+psycopg://... uvicorn bench.bare_app:create_app --factory
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import create_engine, text

TABLE = "bare_judgement"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, verdict text NOT NULL)"


class VerdictBody(BaseModel):
    verdict: str


class Created(BaseModel):
    id: int


def create_app() -> FastAPI:
    engine = create_engine(
        os.environ["ARBITER_DATABASE_URL"],
        pool_size=int(os.environ.get("ARBITER_POOL_SIZE", "5")),
        max_overflow=int(os.environ.get("ARBITER_MAX_OVERFLOW", "10")),
    )
    app = FastAPI()
    insert = text(f"INSERT INTO {TABLE} (verdict) VALUES (:verdict) RETURNING id")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/judgements", status_code=201)
    def judge(body: VerdictBody) -> Created:
        with engine.begin() as conn:
            return Created(id=conn.execute(insert, {"verdict": body.verdict}).scalar_one())

    return app
