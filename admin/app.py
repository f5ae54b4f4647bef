"""The admin FastAPI application: JSON API and server-rendered dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from admin import errors
from admin.dashboard import views
from admin.routes import auth, docs, duiding, exports, quarantine, rounds, themes
from admin.security import SECURITY_HEADERS, BodyLimitMiddleware
from admin.settings import AdminSettings

__all__ = ["SECURITY_HEADERS", "create_app"]


def create_app(
    *,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: AdminSettings,
    routers: Sequence[APIRouter] = (),
    quarantine_key: str | None = None,
) -> FastAPI:
    """Build the app around an engine made by the entry point; the lifespan disposes it.

    ``quarantine_key`` decrypts the safeguarding quarantine for the safeguarding role; without
    it the quarantine endpoint answers 503.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    # FastAPI's own /docs loads scripts from a CDN (blocked by our CSP); routes/docs.py serves
    # a server-rendered reference instead, behind login outside development.
    app = FastAPI(
        title="Jeugdstem",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.sessionmaker = sessionmaker
    app.state.settings = settings
    app.state.public_base_url = settings.public_base_url
    app.state.refresh_seconds = settings.refresh_seconds
    app.state.quarantine_key = quarantine_key
    app.state.background_jobs = set()

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(("/admin", "/docs", "/openapi")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    errors.install(app)
    for module_router in (
        auth.router,
        rounds.router,
        themes.router,
        duiding.router,
        exports.router,
        quarantine.router,
        docs.router,
        views.router,
    ):
        app.include_router(module_router)
    for router in routers:
        app.include_router(router)
    static = Path(__file__).parent / "dashboard" / "static"
    app.mount("/admin/static", StaticFiles(directory=static), name="admin-static")
    return app
