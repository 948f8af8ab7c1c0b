"""Turn ticks into keyed Kafka records: topic choice, per-symbol sequence numbers and the produced_at header."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from producer.tick import Tick, encode_tick

PRODUCED_AT_HEADER = "produced_at"
# Kafka topic names allow ASCII letters, digits, '.', '_' and '-', up to 249 characters.
_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_TOPIC_CHARS = 249


class MissingKeyError(ValueError):
    """A record has no key. Per-symbol order holds only when every record of a symbol has the symbol as key."""


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """A record ready to send. The key must be present: it routes all records of a symbol to one partition."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.key:
            raise MissingKeyError(
                f"record for topic {self.topic!r} has no key ({self.key!r}); set the key to the symbol as UTF-8 bytes, "
                "because only keyed records keep each symbol's ticks in order on one partition"
            )

    @property
    def key_text(self) -> str:
        return self.key.decode("utf-8", errors="backslashreplace")


def topic_for_symbol(prefix: str, symbol: str) -> str:
    """Return the per-symbol topic: the prefix plus the symbol with characters that Kafka rejects replaced by '_'.

    '^GSPC' with prefix 'ticks.' becomes 'ticks._GSPC'.
    """
    name = prefix + _TOPIC_UNSAFE.sub("_", symbol)
    if name in ("", ".", "..") or len(name) > MAX_TOPIC_CHARS:
        raise ValueError(
            f"topic name {name!r} for symbol {symbol!r} is invalid: Kafka needs 1 to {MAX_TOPIC_CHARS} characters, not '.' or '..'"
        )
    return name


@dataclass(frozen=True, slots=True)
class TopicLayout:
    """One keyed topic for all symbols, or one topic per symbol named prefix + sanitized symbol."""

    topic: str = "ticks"
    per_symbol: bool = False
    prefix: str = "ticks."

    def topic_for(self, symbol: str) -> str:
        return topic_for_symbol(self.prefix, symbol) if self.per_symbol else self.topic


class RecordBuilder:
    """Build records from ticks, numbering each symbol's ticks 1, 2, 3, ... in the order they are built."""

    def __init__(self, layout: TopicLayout):
        self.layout = layout
        self._last_seq: dict[str, int] = defaultdict(int)

    def build(self, tick: Tick, produced_at_ms: int) -> OutgoingRecord:
        """Return the record for `tick`; `produced_at_ms` is the produce time in epoch milliseconds.

        Raises MissingKeyError for a tick without a symbol, before it takes a sequence number.
        """
        if not tick.symbol:
            raise MissingKeyError(
                f"tick at {tick.ts.isoformat()} has an empty symbol; every tick needs a symbol, which becomes the record key"
            )
        seq = self._last_seq[tick.symbol] + 1
        record = OutgoingRecord(
            topic=self.layout.topic_for(tick.symbol),
            key=tick.symbol.encode("utf-8"),
            value=encode_tick(tick, seq),
            headers=((PRODUCED_AT_HEADER, str(produced_at_ms).encode("ascii")),),
        )
        self._last_seq[tick.symbol] = seq
        return record
