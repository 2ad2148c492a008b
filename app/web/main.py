"""The app factory: ``create_app(settings)``. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from app import RESOURCES, __version__
from app.db import Database
from app.errors import DomainError, NotAuthenticated, NotFound, Unprocessable
from app.i18n import N_, Text, kept, validation_error
from app.jobs import JobRunner
from app.llm import runs
from app.settings import Settings
from app.web import openapi
from app.web.deps import clean_input
from app.web.gate import Gate
from app.web.guards import page_viewer
from app.web.rendering import Renderer, is_htmx
from app.web.routes import (
    admin,
    admin_api,
    annotate,
    annotate_work,
    annotation_api,
    exports_api,
    health,
    history,
    leaderboard_api,
    meta,
    models_api,
    quality_api,
    session,
)
from app.web.security import LastResort, SecurityHeaders

logger = logging.getLogger(__name__)

SESSION_COOKIE = "arbiter_session"
SESSION_MAX_AGE = 14 * 24 * 3600
MAX_PROBLEMS = 10
MAX_ECHO = 40
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = N_("The database is unavailable for a moment; please try again shortly.")
DATABASE_DOWN: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
)
"""Errors that mean the database cannot be reached (or is busy): a 503, never a 500."""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start this process's job runner (app/jobs.py) and stop it, requeueing its job."""
    runner = None
    if app.state.settings.run_jobs:
        runner = JobRunner(app.state.db, runs.execute)
        runner.start()
    app.state.job_runner = runner
    try:
        yield
    finally:
        if runner is not None:
            await asyncio.to_thread(runner.close)
        app.state.job_runner = None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="Arbiter",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        dependencies=[Depends(clean_input)],  # the text rules for every input (app/text.py)
    )
    app.state.job_runner = None
    app.state.settings = settings
    app.state.instance = secrets.token_hex(4)  # tells app processes apart in /healthz
    app.state.db = Database(
        settings.database_url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
    )
    app.state.renderer = Renderer()
    app.add_middleware(Gate, settings=settings)  # inside the session: it reads the cookie's key
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.https,
    )
    app.add_middleware(LastResort)  # inside the headers: a 500 carries them too
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=RESOURCES / "static"), name="static")
    app.include_router(health.router)
    app.include_router(meta.router)
    app.include_router(session.router)
    app.include_router(annotate.router)
    app.include_router(annotate_work.router)
    app.include_router(history.router)
    app.include_router(annotation_api.router)
    app.include_router(exports_api.router)
    app.include_router(leaderboard_api.router)
    app.include_router(admin.router)
    app.include_router(admin_api.router)
    app.include_router(models_api.router)
    app.include_router(quality_api.router)
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for error in DATABASE_DOWN:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(DataError, _database_refused)
    openapi.install(app)
    return app


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _domain_error(request: Request, exc: DomainError) -> Response:
    """One place maps domain errors to HTTP: JSON for the API, a page or redirect for people."""
    if wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)
    if isinstance(exc, NotAuthenticated):
        target = "/login?next=" + quote(await annotate.login_target(request))
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    await run_in_threadpool(page_viewer, request)  # a path that named nothing ran no route
    renderer: Renderer = request.app.state.renderer
    return renderer.render(
        request, "error.html", {"status": exc.status, "message": exc.text}, status_code=exc.status
    )


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """A malformed body or form: 422 with one readable line per problem. A path that cannot
    name anything (an id out of range, a NUL in a slug) names nothing: 404."""
    errors = exc.errors()
    if any(error["loc"][:1] == ("path",) for error in errors):
        return await _domain_error(request, NotFound(N_("no such page or resource")))
    problems: list[Text] = []
    for error in errors[:MAX_PROBLEMS]:
        where = ".".join(_short(str(part)) for part in error["loc"] if part != "body")
        problem = validation_error(error)
        problems.append(
            kept(f"{where}: {error['msg']}", N_("%(field)s: %(problem)s"), field=where,
                 problem=problem) if where else kept(str(error["msg"]), problem.msgid,
                                                     **problem.values)
        )  # fmt: skip
    told = problems[0]
    for problem in problems[1:]:
        told = Text(N_("%(problems)s; %(problem)s"), problems=told, problem=problem)
    return await _domain_error(request, Unprocessable(told))


def _short(name: str) -> str:
    """A key as sent, cut short: a hostile body must not be echoed back whole."""
    return name if len(name) <= MAX_ECHO else name[:MAX_ECHO] + "…"


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's answer, except a JSON body it could not parse for being nested too deeply or
    holding a number too long to convert: that is a malformed body too (422, not 400)."""
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError | ValueError):
        return await _domain_error(
            request, Unprocessable(N_("the JSON body is nested too deeply or a number is too long"))
        )
    if exc.status_code in PAGE_ERRORS and not wants_json(request):
        headers = dict(exc.headers) if exc.headers else None
        await run_in_threadpool(page_viewer, request)
        return _error_page(request, exc.status_code, PAGE_ERRORS[exc.status_code], headers)
    return await http_exception_handler(request, exc)


PAGE_ERRORS = {
    404: N_("There is no page at this address."),
    405: N_(
        "This address only takes what a page's buttons send: go back to the page and use them."
    ),
}
"""Starlette's own errors that people meet, told on the app's page instead of as JSON."""


def _error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    renderer: Renderer = request.app.state.renderer
    context = {"status": status, "message": message}
    return renderer.render(request, "error.html", context, status_code=status, headers=headers)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is down, restarting or out of connections: 503 with ``Retry-After``.

    The transaction was rolled back and the request did nothing; SQLAlchemy has already
    discarded the broken connection (and, on a disconnect, every older pooled one).
    """
    logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json(request):
        return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers=headers)
    renderer: Renderer = request.app.state.renderer
    return renderer.render(
        request,
        "error.html",
        {"status": 503, "message": UNAVAILABLE},
        status_code=503,
        headers=headers,
    )


REFUSED = "a value is too long, out of range, or holds characters the database cannot store"


async def _database_refused(request: Request, exc: Exception) -> Response:
    """A value that got past the field rules but not past the database: a 422, never a 500
    (the transaction was rolled back; nothing was written)."""
    logger.warning("database refused a value: %s", str(exc).splitlines()[0])
    return await _domain_error(request, Unprocessable(REFUSED))
