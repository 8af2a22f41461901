"""Schemathesis over /schema's OpenAPI: every operation, generated inputs, against the real app.
No 5xx and no response that violates its own schema. (Driven through schemathesis' Python API:
its pytest plugin does not work with pytest 9.)"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Ok

from principles.settings import Settings
from service.app import create_app

pytestmark = pytest.mark.slow
EXAMPLES = 40
# No 5xx, and every answer (status, content type, headers, body) as the schema documents it.
# Not "positive data acceptance": a well-formed reference to a page that does not exist is a
# documented 404, not a failure.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance]


def _operations(corpus_settings: Settings) -> list[Any]:
    # schemathesis' ASGI client sends `Host: testserver`
    served = corpus_settings.model_copy(update={
        "allowed_hosts": [*corpus_settings.allowed_hosts, "testserver"]})
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(served))
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise AssertionError(f"an OpenAPI operation cannot be loaded: {result.err()}")
        operations.append(result.ok())
    return operations


def test_every_operation_survives_fuzzing(corpus_settings: Settings) -> None:
    operations = _operations(corpus_settings)
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True,  # same inputs every CI run: a red CI is a regression
                  database=None)
        def run(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except BaseException as exc:  # collect every operation's failure, then report them all
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


HOSTILE_HEADERS = st.fixed_dictionaries({}, optional={
    "Host": st.sampled_from(["a:b", "evil.example", "", "localhost:1", "x" * 300, "[::1"]),
    "Content-Type": st.sampled_from(["text/plain", "application/json; charset=latin-1",
                                     "application/x-www-form-urlencoded", "*/*", "json"]),
    "Accept": st.sampled_from(["text/html", "application/ld+json", "*/*;q=0", "x/y", ""]),
    "If-None-Match": st.sampled_from(["*", '"x"', "W/", ", ,"]),
    "If-Match": st.sampled_from(["*", '"x"', "W/\"x\""]),
})


def test_every_operation_survives_hostile_headers_and_bodies(corpus_settings: Settings) -> None:
    """Negative mode (schemathesis mutates bodies, parameters and their types) plus hostile
    header values on every operation: never a 5xx, and every refusal is problem+json."""
    operations = _operations(corpus_settings)
    failures: list[str] = []
    for operation in operations:
        # Operations without parameters or body have nothing to mutate: positive cases then.
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
                              operation.as_strategy()),
               headers=HOSTILE_HEADERS)
        @settings(max_examples=EXAMPLES // 4, deadline=None,
                  suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def run(case: schemathesis.Case[Any], headers: dict[str, str]) -> None:
            case.headers = {**(case.headers or {}), **headers}
            response = case.call()
            assert response.status_code < 500, (response.status_code, response.text[:300])
            if response.status_code >= 400 and response.status_code != 406:
                assert response.headers.get("content-type", [""])[0].startswith(
                    "application/problem+json"), (response.status_code, response.headers)

        try:
            run()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
