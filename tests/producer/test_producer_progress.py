"""Progress lines and the closing summary."""

from __future__ import annotations

import asyncio
import io

from producer.delivery import DeliveryFailure, DeliveryResult
from producer.progress import format_progress, format_summary, report_progress


def _result() -> DeliveryResult:
    failures = [DeliveryFailure(key=f"SYM{index:03d}", topic="ticks", error="KafkaTimeoutError: no acknowledgement") for index in range(12)]
    failures.append(DeliveryFailure(key="big", topic="ticks", error="MessageSizeTooLargeError: too large"))
    return DeliveryResult(sent=2_000, acknowledged=1_987, failures=failures, elapsed_s=2.0)


def test_progress_line():
    line = format_progress(_result(), rate=1_998.4, target_rate=2_000)

    assert line == "rate 1,998 records/s (target 2,000/s)  sent 2,000  acknowledged 1,987  failed 13"


def test_summary_counts_and_rate():
    first_line = format_summary(_result(), target_rate=2_000).splitlines()[0]

    assert first_line == "sent 2,000, acknowledged 1,987, failed 13 in 2.0 s (1,000.0 records/s, target 2,000.0/s)"


def test_summary_groups_failures_by_error():
    lines = format_summary(_result(), target_rate=None).splitlines()

    assert lines[1].startswith("failed 12 records (keys SYM000, SYM001,")
    assert "and 2 more): KafkaTimeoutError" in lines[1]
    assert lines[2] == "failed 1 record (keys big): MessageSizeTooLargeError: too large"


def test_summary_shows_run_error():
    result = DeliveryResult(error="cannot connect to Kafka at 127.0.0.1:1")

    assert "error: cannot connect to Kafka at 127.0.0.1:1" in format_summary(result, target_rate=None)


async def test_progress_reports_until_cancelled():
    stream = io.StringIO()
    result = DeliveryResult(sent=10)
    task = asyncio.create_task(report_progress(result, target_rate=None, stream=stream, interval_s=0.01))

    deadline = asyncio.get_running_loop().time() + 5
    while stream.getvalue().count("\n") < 2 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    task.cancel()

    assert "sent 10" in stream.getvalue()
