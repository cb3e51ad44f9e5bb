"""The ASGI application: API v1, dashboard, metrics, health; errors as JSON 4xx."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ringfence.server import api, api_agents, api_github, api_policy, openapi
from ringfence.server.http import HTTPError, RateLimiter, error_response
from ringfence.server.metrics import Metrics
from ringfence.server.state import ServerState

log = logging.getLogger("ringfence.server")


class JSONLogFormatter(logging.Formatter):
    """One JSON object per line: ts, level, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONLogFormatter())
    root = logging.getLogger("ringfence")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class AccessLog:
    """Counts every request into the metrics and logs it as one JSON line."""

    def __init__(self, app: ASGIApp, metrics: Metrics, quiet_paths: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.quiet = quiet_paths
        self._children: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = str(getattr(route, "path", "unmatched" if scope["path"] != "/api/v1/decide" else scope["path"]))
            key = (path, status)
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self.metrics.http.labels(path, str(status))
            child.inc()
            if scope["path"] not in self.quiet and log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        }
                    },
                )


class DecideFastPath:
    """``POST /api/v1/decide`` straight to its handler, skipping route matching and the
    exception middleware (the endpoint every agent calls before every action); errors
    are answered exactly as the routed endpoints answer them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/v1/decide" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await api.decide(request)
        except HTTPError as exc:
            response = error_response(exc)
        except Exception as exc:
            response = await _unexpected(request, exc)
        await response(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    return error_response(exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc, extra={"fields": {"path": request.url.path}})
    return JSONResponse({"error": "internal error; the server log has the details"}, status_code=500)


def create_app(state: ServerState) -> Starlette:
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from ringfence.server import dashboard, sessions

    metrics = Metrics()

    async def metrics_endpoint(request: Request) -> Response:
        import asyncio

        body = await asyncio.to_thread(metrics.render, state)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"no such endpoint: {request.method} {request.url.path}"}, status_code=404)

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"{request.method} is not allowed on {request.url.path}"}, status_code=405)

    routes = [
        *api.ROUTES,
        *api_agents.ROUTES,
        *api_policy.ROUTES,
        *api_github.ROUTES,
        *openapi.ROUTES,
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *sessions.ROUTES,
        *dashboard.ROUTES,
        Mount("/static", app=StaticFiles(directory=dashboard.STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPError: _http_error, 404: not_found, 405: method_not_allowed, Exception: _unexpected},
    )
    app.state.rf = state
    app.state.metrics = metrics
    app.state.limiter = RateLimiter(rate=2000.0, burst=4000.0)
    app.state.login_limiter = RateLimiter(rate=0.2, burst=10.0)
    app.state.draining = False
    app.add_middleware(DecideFastPath)
    app.add_middleware(AccessLog, metrics=metrics, quiet_paths=frozenset({"/healthz", "/readyz", "/metrics"}))
    return app
