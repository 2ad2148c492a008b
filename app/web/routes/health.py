"""`GET /healthz`: 200 when the database answers, 503 when it does not.

Both answers name the app process that gave them (``instance``: a random id drawn when the
process built its app, nothing else), so behind a load balancer, or with ``arbiter serve
--workers N``, one can tell the processes apart."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.web.deps import DatabaseDep

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request, db: DatabaseDep) -> JSONResponse:
    instance = request.app.state.instance
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        body = {"status": "unavailable", "database": "down", "instance": instance}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": db.dialect, "instance": instance})
