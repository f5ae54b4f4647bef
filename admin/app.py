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
from admin.routes import rounds
from admin.settings import AdminSettings

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(
    *,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: AdminSettings,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Build the app around an engine made by the entry point; the lifespan disposes it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    dev = settings.environment != "production"
    app = FastAPI(
        title="Jeugdstem",
        lifespan=lifespan,
        docs_url="/docs" if dev else None,
        redoc_url=None,
        openapi_url="/openapi.json" if dev else None,
    )
    app.state.sessionmaker = sessionmaker
    app.state.public_base_url = settings.public_base_url
    app.state.refresh_seconds = settings.refresh_seconds

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    errors.install(app)
    app.include_router(rounds.router)
    app.include_router(views.router)
    for router in routers:
        app.include_router(router)
    static = Path(__file__).parent / "dashboard" / "static"
    app.mount("/admin/static", StaticFiles(directory=static), name="admin-static")
    return app
