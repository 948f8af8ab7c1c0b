"""Progress lines and the closing summary of a CLI run, written to stderr."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from typing import TextIO

from producer.delivery import DeliveryResult

PROGRESS_INTERVAL_S = 1.0


def format_progress(result: DeliveryResult, rate: float, target_rate: float | None) -> str:
    """Return one progress line: the send rate over the last interval and the counts so far."""
    target = f" (target {target_rate:,.0f}/s)" if target_rate else ""
    return f"rate {rate:,.0f} records/s{target}  sent {result.sent:,}  acknowledged {result.acknowledged:,}  failed {result.failed:,}"


def format_summary(result: DeliveryResult, target_rate: float | None, max_keys: int = 10) -> str:
    """Return the closing summary: counts, achieved rate, and the failures grouped by error with their keys."""
    achieved = result.sent / result.elapsed_s if result.elapsed_s > 0 else 0.0
    target = f", target {target_rate:,.1f}/s" if target_rate else ""
    lines = [
        f"sent {result.sent:,}, acknowledged {result.acknowledged:,}, failed {result.failed:,} "
        f"in {result.elapsed_s:,.1f} s ({achieved:,.1f} records/s{target})"
    ]
    if result.error:
        lines.append(f"error: {result.error}")
    keys_by_error: dict[str, dict[str, None]] = {}
    counts: Counter[str] = Counter()
    for failure in result.failures:
        counts[failure.error] += 1
        keys_by_error.setdefault(failure.error, {})[failure.key] = None
    for error, count in counts.most_common():
        keys = list(keys_by_error[error])
        key_list = ", ".join(keys[:max_keys]) + (f" and {len(keys) - max_keys:,} more" if len(keys) > max_keys else "")
        noun = "record" if count == 1 else "records"
        lines.append(f"failed {count:,} {noun} (keys {key_list}): {error}")
    return "\n".join(lines)


async def report_progress(
    result: DeliveryResult,
    target_rate: float | None,
    stream: TextIO = sys.stderr,
    interval_s: float = PROGRESS_INTERVAL_S,
) -> None:
    """Write a progress line every `interval_s` until cancelled."""
    last_sent = result.sent
    last_time = time.monotonic()
    while True:
        await asyncio.sleep(interval_s)
        now = time.monotonic()
        rate = (result.sent - last_sent) / (now - last_time)
        last_sent, last_time = result.sent, now
        print(format_progress(result, rate, target_rate), file=stream, flush=True)
