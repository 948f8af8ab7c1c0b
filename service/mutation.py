"""The batched `publish` mutation: its document and the reading of AppSync's response.

Pure functions, tested without a network. AppSync runs the top-level fields
of one mutation request one after another in document order, so the aliases
p0, p1, ... publish a batch in offset order.
"""

from __future__ import annotations

import functools
from typing import Any

from service.errors import (
    AuthorizationError,
    MutationRejectedError,
    RecordError,
    ServerError,
    ThrottledError,
)

# Every field of Channel. Real AppSync sends subscribers only the fields the
# mutation selected, so this must cover every field a subscription can request.
# A test checks it against schema/schema.graphql.
PUBLISH_SELECTION = "name data"

_THROTTLING_ERROR_TYPES = {"TooManyRequestsException", "ThrottlingException", "LimitExceededException"}
_AUTH_ERROR_TYPES = {"UnauthorizedException", "AccessDeniedException"}
_SERVER_ERROR_TYPES = {"InternalFailureException", "ServiceUnavailableException", "InternalFailure"}


@functools.lru_cache(maxsize=512)
def publish_document(batch_size: int) -> str:
    """Return the mutation document publishing batch_size messages through aliases p0..pN."""
    variables = ", ".join(f"$n{i}: String!, $d{i}: AWSJSON!" for i in range(batch_size))
    fields = " ".join(f"p{i}: publish(name: $n{i}, data: $d{i}) {{ {PUBLISH_SELECTION} }}" for i in range(batch_size))
    return f"mutation Publish({variables}) {{ {fields} }}"


def publish_variables(channels: list[str], data: list[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for i, (channel, payload) in enumerate(zip(channels, data)):
        variables[f"n{i}"] = channel
        variables[f"d{i}"] = payload
    return variables


def read_response(status: int, body: Any, batch_size: int) -> list[RecordError | None]:
    """Return one outcome per message: None when acknowledged, a RecordError when AppSync rejected it.

    Raise a DeliveryError when the request failed as a whole, so the caller
    retries the batch.
    """
    errors = body.get("errors") if isinstance(body, dict) else None
    errors = errors if isinstance(errors, list) else []
    _raise_for_request_failure(status, body, errors)

    data = body.get("data") if isinstance(body, dict) else None
    data = data if isinstance(data, dict) else {}
    alias_errors: dict[str, dict] = {}
    request_errors = []
    for error in errors:
        path = error.get("path") if isinstance(error, dict) else None
        if path and isinstance(path[0], str) and path[0].startswith("p"):
            alias_errors.setdefault(path[0], error)
        else:
            request_errors.append(error)

    if request_errors:
        # An error without a path rejects the document or its variables, so
        # no message was published; which record caused it is unknown.
        raise MutationRejectedError(_describe(request_errors[0]))

    outcomes: list[RecordError | None] = []
    for i in range(batch_size):
        alias = f"p{i}"
        error = alias_errors.get(alias)
        if error is not None:
            # NOTE: a transient error on one alias retries the whole batch, so
            # the aliases before it that AppSync did publish are sent twice.
            _raise_if_transient(error)
            outcomes.append(MutationRejectedError(_describe(error)))
        elif data.get(alias) is None:
            outcomes.append(MutationRejectedError(f"AppSync returned no result and no error for {alias}"))
        else:
            outcomes.append(None)
    return outcomes


def _raise_for_request_failure(status: int, body: Any, errors: list) -> None:
    if status == 200 and not errors:
        return  # the common case; building an error detail for it costs a repr() of the body
    error_types = {error.get("errorType") for error in errors if isinstance(error, dict)}
    detail = _describe(errors[0]) if errors else _short(body)
    if status in (401, 403) or error_types & _AUTH_ERROR_TYPES:
        raise AuthorizationError(f"AppSync rejected the credentials (HTTP {status}): {detail}")
    if status == 429 or (error_types & _THROTTLING_ERROR_TYPES and status != 200):
        raise ThrottledError(f"AppSync throttled the request (HTTP {status}): {detail}")
    if status >= 500:
        raise ServerError(f"AppSync failed with HTTP {status}: {detail}")
    if status != 200 and not errors:
        raise ServerError(f"AppSync returned HTTP {status} without GraphQL errors: {detail}")


def _raise_if_transient(error: dict) -> None:
    error_type = error.get("errorType")
    if error_type in _THROTTLING_ERROR_TYPES:
        raise ThrottledError(_describe(error))
    if error_type in _SERVER_ERROR_TYPES:
        raise ServerError(_describe(error))


def _describe(error: Any) -> str:
    if not isinstance(error, dict):
        return _short(error)
    error_type = error.get("errorType") or "GraphQLError"
    return f"{error_type}: {error.get('message', '')}"[:500]


def _short(value: Any) -> str:
    return repr(value)[:300]
