"""What the OpenAPI document promises for errors, method answers and date filters, checked directly
(the generated requests of test_openapi_fuzz.py check it broadly)."""
from __future__ import annotations

import pytest

from tests.test_api_security import REQUIRED_PATHS, TOKEN_ROUTE, assert_error_shape

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def test_every_operation_declares_its_errors_in_the_error_shape(client):
    openapi = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    for path, methods in REQUIRED_PATHS.items():
        for method in methods:
            responses = openapi["paths"][path][method]["responses"]
            errors = {code for code in responses if code[0] in "45"}
            for code in errors:
                assert responses[code]["content"]["application/json"]["schema"] == ERROR_REF, (method, path, code)
            assert "Retry-After" in responses["503"]["headers"]
            assert ("401" in errors) and ("422" in errors or method == "get"), (method, path, errors)
            if method != "get" and (method.upper(), path) != TOKEN_ROUTE:  # the token route keeps no key
                assert {"409", "422"} <= errors, (method, path, errors)
    assert "429" in openapi["paths"][TOKEN_ROUTE[1]]["post"]["responses"]


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/process-instances", "GET, POST"),
    ("PUT", "/api/v1/customers/1", "GET, PATCH"),
    ("PATCH", "/api/v1/opportunities/pipeline", "GET"),  # not /opportunities/{opportunity_id}
    ("GET", "/api/v1/auth/token", "POST"),
])
def test_a_method_the_path_lacks_is_a_405_naming_every_method_it_has(api, method, path, allowed):
    response = api.client.request(method, path, headers=api.headers("ada"))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    assert_error_shape(response, "method_not_allowed")


@pytest.mark.parametrize("query", ["due_before=0.5", "due_before=1700000000", "due_before=2030-01-02",
                                   "due_before=2030-01-02 09:00:00Z", "sort=title"])
def test_date_filters_take_only_rfc3339_text_and_sort_fields_are_listed(api, query):
    response = api.get(f"/activities?{query}", user="ada")
    assert response.status_code == 422, response.text
    assert assert_error_shape(response, "validation_failed")["details"][0]["field"] in ("due_before", "sort")
    assert api.get("/activities?due_before=2030-01-02T09:00:00%2B01:00&sort=-due_at", user="ada").status_code == 200
