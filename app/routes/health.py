"""`GET /healthz`: 200 when the database answers, 503 when it does not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.deps import DatabaseDep

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(db: DatabaseDep) -> JSONResponse:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": db.dialect})
