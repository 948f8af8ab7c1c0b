"""Benchmark: the synthetic source's achieved send rate next to its target, on the local broker."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from producer.pacing import Pace
from producer.records import RecordBuilder, TopicLayout
from producer.run import send_ticks
from producer.sources.synthetic import RandomWalk, synthetic_symbols

pytestmark = pytest.mark.stack

TARGET_RATE = 2_000.0
DURATION_S = 3.0


async def test_synthetic_rate_benchmark(kafka_options, new_topic, read_topic):
    topic = await new_topic("synthetic-rate", partitions=6)
    pace = Pace.from_rate(TARGET_RATE)
    count = int(TARGET_RATE * DURATION_S)
    walk = RandomWalk(synthetic_symbols(100), seed=7)

    result = await send_ticks(
        kafka_options, walk.ticks(datetime.now(timezone.utc), pace, limit=count), RecordBuilder(TopicLayout(topic=topic))
    )

    achieved = result.sent / result.elapsed_s
    # A figure to read, not a timing assertion: the machine may be busy.
    print(
        f"\nsynthetic source: target {TARGET_RATE:,.0f} records/s, achieved {achieved:,.0f} records/s "
        f"({result.acknowledged:,} acknowledged in {result.elapsed_s:.2f} s, 100 symbols, 6 partitions)"
    )
    assert result.acknowledged == count
    assert len(await read_topic(topic)) == count
