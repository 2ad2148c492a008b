"""The app factory: ``create_app(settings)``. Nothing connects at import time."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from app import ROOT, __version__
from app.auth import DomainError
from app.db import Database
from app.routes import health
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="Arbiter", version=__version__, docs_url="/api/docs")
    app.state.settings = settings
    app.state.db = Database(
        settings.database_url, pool_size=settings.pool_size, max_overflow=settings.max_overflow
    )
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(health.router)
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    return app


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=exc.status)
