"""Errors of the relay service.

Each error class states whether retrying can help, so callers branch on
`error.retryable` instead of on exception types:

    RelayError
    ├── ConfigurationError        settings invalid; the service does not start
    ├── StartupError              a broker, port or topic unusable at start
    ├── RecordError               one record cannot be published (dead-lettered)
    │   ├── DecodeError           not UTF-8, not JSON, or the wrong shape
    │   ├── TombstoneError        the value is null
    │   ├── PayloadTooLargeError  the encoded data exceeds AppSync's limit
    │   └── MutationRejectedError AppSync rejected this record's mutation
    └── DeliveryError             the request failed as a whole (retried)
        ├── TransportError        connection failed, reset or timed out
        ├── ServerError           HTTP 5xx
        ├── ThrottledError        HTTP 429 or TooManyRequestsException
        └── AuthorizationError    HTTP 401 or 403; retried slowly, readiness red
"""

from __future__ import annotations


class RelayError(Exception):
    retryable = False
    # Bounded label value for metrics and the dead-letter header.
    reason = "error"


class ConfigurationError(RelayError):
    reason = "configuration"


class StartupError(RelayError):
    reason = "startup"


class RecordError(RelayError):
    """One record cannot be published; it goes to the dead-letter topic."""


class DecodeError(RecordError):
    reason = "decode"


class TombstoneError(RecordError):
    reason = "tombstone"


class PayloadTooLargeError(RecordError):
    reason = "payload_too_large"


class MutationRejectedError(RecordError):
    reason = "mutation_rejected"


class DeliveryError(RelayError):
    retryable = True
    reason = "delivery"


class TransportError(DeliveryError):
    reason = "transport"


class ServerError(DeliveryError):
    reason = "server_error"


class ThrottledError(DeliveryError):
    reason = "throttled"


class AuthorizationError(DeliveryError):
    reason = "unauthorized"
