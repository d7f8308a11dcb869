"""schemathesis against the app's own /openapi.json, served on a free loopback port.

For every operation, requests generated from the schema (valid ones, and invalid ones:
wrong types, missing fields, out-of-range numbers, strings that break the patterns) go to
the real app over the sample index with the extractive generator and a bearer token. Each
response must pass schemathesis's checks: no 5xx, a status code, content type, headers and
body that the schema documents, invalid input rejected with 4xx, and no answer without the
token. Not checked: that every schema-valid request is accepted, since some rules cannot be
written in the schema (date_from <= date_to, a real calendar day, the generator names a
server can run, a question that is not all whitespace) and are refused with 400.

schemathesis's own pytest loader (`schemathesis.pytest.from_fixture`) needs pytest < 9
(it sets `Node._nodeid`), so each operation's strategy is driven by hypothesis directly.
"""
from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from qa import Settings
from web import create_app

TOKEN = "schemathesis-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 50  # per operation and mode: about a minute in all on 2 busy cores
OPERATIONS = ["POST /api/ask", "GET /api/search", "GET /api/cables/{cable_id}",
              "GET /api/cables/{cable_id}/paragraphs/{n}", "GET /api/cables/{cable_id}/cite",
              "GET /api/collections", "POST /api/collections/jobs",
              "GET /api/collections/jobs/{job_id}", "GET /api/health"]
# What a schema-valid request with the token gets when its handler ran: 200, except that
# generated files are no cable files (400; a .txt of noise gives a job, 202) and that a
# generated job id names no job (404).
REACHED = {"POST /api/collections/jobs": {202, 400}, "GET /api/collections/jobs/{job_id}": {404}}


@pytest.fixture(scope="module")
def guarded_url(sample_index_dir, serve):
    """The app over the sample index, its /api guarded by TOKEN."""
    app_settings = Settings.from_env(index_dir=str(sample_index_dir), generator="extractive",
                                    api_token=TOKEN)
    with serve(create_app(app_settings)) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(guarded_url):
    config = SchemathesisConfig.from_dict({
        # The token for the schema's HTTPBearer scheme, so schemathesis knows which requests
        # carry it (and that one without it must get 401).
        "auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}},
        # Query parameters the schema does not name are ignored, as HTTP APIs do; a body
        # field it does not name is still refused (AskIn forbids extras).
        "generation": {"allow-extra-parameters": False},
    })
    return schemathesis.openapi.from_url(f"{guarded_url}/openapi.json", config=config)


def test_every_operation_is_fuzzed(api_schema):
    labels = [result.ok().label for result in api_schema.get_all_operations()]
    assert sorted(labels) == sorted(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=lambda m: m.value)
@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_its_schema(api_schema, label, mode):
    operation = api_schema.find_operation_by_label(label)
    sent = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True,
              database=None, deadline=None, phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    def check(case):
        response = case.call_and_validate(timeout=120,
                                          excluded_checks=[positive_data_acceptance])
        sent.append(response.status_code)

    check()
    if mode is GenerationMode.POSITIVE:  # the token was sent and the handler reached
        assert set(sent) & REACHED.get(label, {200}), sent
    else:
        assert sent


def test_the_server_survived(guarded_url):
    assert httpx.get(f"{guarded_url}/api/health", headers=AUTH).status_code == 200
