"""The batched publish document and the reading of AppSync responses."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from service.errors import AuthorizationError, MutationRejectedError, ServerError, ThrottledError
from service.mutation import publish_document, publish_variables, read_response

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
# The AWS scalars and directives that AppSync defines outside the schema file.
APPSYNC_PRELUDE = """
scalar AWSJSON
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
directive @aws_api_key on FIELD_DEFINITION | OBJECT
directive @aws_iam on FIELD_DEFINITION | OBJECT
"""


def appsync_schema():
    return build_schema(APPSYNC_PRELUDE + SCHEMA_FILE.read_text())


def test_document_is_valid():
    errors = validate(appsync_schema(), parse(publish_document(3)))
    assert errors == []


def test_document_aliases_in_order():
    document = publish_document(3)
    assert document.index("p0:") < document.index("p1:") < document.index("p2:")


def test_selection_covers_subscriptions():
    """Real AppSync sends subscribers only the fields the mutation selected."""
    schema = appsync_schema()
    subscription_fields = set()
    for field in schema.subscription_type.fields.values():
        subscription_fields |= set(field.type.fields)
    publish = parse(publish_document(1)).definitions[0].selection_set.selections[0]
    selected = {selection.name.value for selection in publish.selection_set.selections}
    assert subscription_fields <= selected


def test_variables_pair_up():
    assert publish_variables(["A", "B"], ["{}", "[]"]) == {"n0": "A", "d0": "{}", "n1": "B", "d1": "[]"}


def test_all_acknowledged():
    body = {"data": {"p0": {"name": "A"}, "p1": {"name": "B"}}}
    assert read_response(200, body, 2) == [None, None]


def test_one_alias_rejected():
    body = {"data": {"p0": {"name": "A"}, "p1": None},
            "errors": [{"path": ["p1"], "errorType": "ValidationError", "message": "bad data"}]}
    outcomes = read_response(200, body, 2)
    assert isinstance(outcomes[1], MutationRejectedError)


def test_rejection_keeps_message():
    body = {"data": {"p0": None}, "errors": [{"path": ["p0"], "errorType": "ValidationError", "message": "bad data"}]}
    assert "bad data" in str(read_response(200, body, 1)[0])


def test_request_level_error():
    body = {"errors": [{"errorType": "ValidationError", "message": "Variable 'd0' has an invalid value"}]}
    with pytest.raises(MutationRejectedError):
        read_response(400, body, 2)


@pytest.mark.parametrize("status, error", [(401, AuthorizationError), (403, AuthorizationError),
                                           (429, ThrottledError), (500, ServerError), (503, ServerError)])
def test_http_status_classes(status, error):
    with pytest.raises(error):
        read_response(status, {"errors": [{"message": "x"}]}, 1)


def test_throttling_error_type():
    body = {"errors": [{"errorType": "TooManyRequestsException", "message": "slow down"}]}
    with pytest.raises(ThrottledError):
        read_response(400, body, 1)


def test_alias_throttled_retried():
    body = {"data": {"p0": None}, "errors": [{"path": ["p0"], "errorType": "TooManyRequestsException", "message": "x"}]}
    with pytest.raises(ThrottledError):
        read_response(200, body, 1)


def test_non_graphql_error_body():
    with pytest.raises(ServerError, match="502"):
        read_response(502, "<html>Bad Gateway</html>", 1)


def test_retryable_is_class_data():
    assert (ThrottledError.retryable, MutationRejectedError.retryable) == (True, False)
