"""The OpenAPI document: valid OpenAPI 3.1, in step with the app's routes and their
authentication, and a schemathesis run against the ASGI app that finds no 5xx and no
response the document does not describe."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from starlette.routing import Route

from ringfence.server.openapi import document
from tests.pg import pg_schema
from tests.server.conftest import Human, MakeServer, Server, bearer

API_OUTSIDE_V1 = frozenset({"/healthz", "/readyz", "/metrics"})
DUMMY_PARAMS = {"rid": "AR-00000000", "hid": "HALT-00000000", "seq": "0"}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


def api_routes(server: Server) -> set[tuple[str, str]]:
    out = set()
    for route in server.app.routes:
        if isinstance(route, Route) and (route.path.startswith("/api/") or route.path in API_OUTSIDE_V1):
            out |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return out


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), path, op) for path, item in document()["paths"].items() for m, op in item.items()]


def test_the_document_is_valid_openapi_3_1_and_served(server: Server) -> None:
    doc = document()
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    assert doc["openapi"] == "3.1.0"
    served = server.client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json() == doc  # public: no credentials needed
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"]["scheme"] == "bearer"
    assert (schemes["sessionCookie"]["in"], schemes["sessionCookie"]["name"]) == ("cookie", "rf_session")
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == ("header", "X-CSRF-Token")
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_every_route_is_documented_and_every_documented_route_exists(server: Server) -> None:
    documented = {(m, path) for m, path, _ in operations()}
    routes = api_routes(server)
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations the app does not have"


def test_every_error_response_is_the_error_schema_and_every_operation_says_who_may_call() -> None:
    for method, path, op in operations():
        assert "security" in op, f"{method} {path} does not say who may call it"
        for status, response in op["responses"].items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {status}"
        if op["security"]:
            assert "401" in op["responses"], f"{method} {path} needs credentials but documents no 401"


def _call(server: Server, method: str, path: str, **kw: Any) -> Any:
    for name, value in DUMMY_PARAMS.items():
        path = path.replace("{" + name + "}", value)
    client = kw.pop("client", server.client)
    return client.request(method, path, **kw)


def test_the_documented_security_is_what_the_app_enforces(server: Server, token: str, alice: Human) -> None:
    for method, path, op in operations():
        kinds = {name for requirement in op["security"] for name in requirement}
        anonymous = _call(server, method, path, json={})
        if op["security"]:
            assert anonymous.status_code == 401, f"{method} {path} answered {anonymous.status_code} without credentials"
            assert anonymous.json()["error"]
        else:
            assert anonymous.status_code != 401, f"{method} {path} is documented as public"
            continue
        if "bearerToken" not in kinds:  # humans only: a token is refused
            r = _call(server, method, path, json={}, headers=bearer(token))
            assert r.status_code in (400, 403), f"{method} {path} let an agent token through: {r.status_code}"
        if "sessionCookie" not in kinds:  # agents only: a session is refused
            r = _call(server, method, path, json={}, client=alice.client, headers={"X-CSRF-Token": alice.csrf})
            assert r.status_code == 403, f"{method} {path} let a session through: {r.status_code}"
        needs_csrf = any("csrfToken" in requirement for requirement in op["security"])
        if "sessionCookie" in kinds and needs_csrf:
            r = _call(server, method, path, json={}, client=alice.client)
            assert r.status_code == 403 and "X-CSRF-Token" in r.json()["error"], f"{method} {path}"


@pytest.fixture(params=["sqlite", "postgres"])
def fuzzed(request: pytest.FixtureRequest, make_server: MakeServer) -> Iterator[Server]:
    """A server on SQLite, or on PostgreSQL (whose text columns refuse what SQLite takes)."""
    if request.param == "sqlite":
        yield make_server()
        return
    with pg_schema() as url:
        server = make_server(database=url)
        yield server
        server.close()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_undocumented_response(fuzzed: Server) -> None:
    """Positive and negative cases for every operation, as an agent and as a human, with
    ``max_examples`` kept small so the whole run takes seconds."""
    server = fuzzed
    token = server.token()
    alice = server.sign_in("alice")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", server.app)
    held = server.held(token)  # a real request, so answers and reads reach past the 404
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    started = time.monotonic()

    def credentials(op_label: str, requirement: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        # signing out ends the session it is sent with: give that operation a fresh one each time
        human = server.sign_in("alice") if op_label == "DELETE /api/v1/session" else alice
        if "bearerToken" in requirement:
            headers["Authorization"] = f"Bearer {token}"
        if "sessionCookie" in requirement:
            cookies["rf_session"] = human.client.cookies["rf_session"]
        if "csrfToken" in requirement:
            headers["X-CSRF-Token"] = human.csrf
        return headers, cookies

    def fuzz(label: str, mode: str, cases: Any, requirements: Any) -> None:
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases, requirement=requirements)
        def run(case: Any, requirement: dict[str, Any]) -> None:
            headers, cookies = credentials(label, requirement)
            headers = {**(case.headers or {}), **headers}
            response = case.call(headers=headers, cookies=cookies)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as exc:
                failures.append(f"{label} ({mode}): {exc}")

        run()

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= len(document()["paths"]) - 1  # all but the document itself
    for op in operations:
        security = op.definition.raw.get("security") or [{}]
        for mode in GenerationMode:
            strategies = [op.as_strategy(generation_mode=mode)]
            if "{rid}" in op.path:
                fixed = {"timeout": 0} if op.path.endswith("/wait") else None
                strategies.append(op.as_strategy(generation_mode=mode, path_parameters={"rid": held}, query=fixed))

            try:
                fuzz(op.label, mode.value, st.one_of(strategies), st.sampled_from(security))
            except Exception as exc:
                if "Unable to satisfy assumptions" not in str(exc):  # no negative case exists for some
                    failures.append(f"{op.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures[:5])
    assert not any(s >= 500 for s in statuses)
    assert statuses[200] > 50 and statuses[422] > 0 and statuses[401] > 0
    assert time.monotonic() - started < 60
