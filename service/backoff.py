"""Capped exponential backoff with full jitter."""

from __future__ import annotations

import random

from service.errors import AuthorizationError, DeliveryError


def retry_delay_s(error: DeliveryError, attempt: int, base_s: float, max_s: float, auth_retry_s: float) -> float:
    """Return how long to wait before retry number `attempt` (1-based).

    A 401 or 403 will not heal in milliseconds, so it waits auth_retry_s
    instead of backing off from base_s.
    """
    if isinstance(error, AuthorizationError):
        return auth_retry_s * random.uniform(0.8, 1.2)
    return random.uniform(0, min(max_s, base_s * 2 ** (attempt - 1)))
