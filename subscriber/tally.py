"""Count what a subscriber received: losses, reordering, duplicates and latency. Pure, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class SymbolTally:
    received: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    highest_seq: int = 0
    seen: set[int] = field(default_factory=set)

    def add(self, seq: int) -> None:
        self.received += 1
        if seq in self.seen:
            self.duplicates += 1
            return
        if seq < self.highest_seq:
            self.out_of_order += 1
        self.seen.add(seq)
        self.highest_seq = max(self.highest_seq, seq)

    @property
    def lost(self) -> int:
        """Sequence numbers from 1 to the highest seen that never arrived."""
        return self.highest_seq - len(self.seen)


@dataclass
class Tally:
    """Arrivals per channel, counted by the ticks' per-symbol `seq` numbers."""

    symbols: dict[str, SymbolTally] = field(default_factory=dict)
    order: dict[str, list[int]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    relay_latencies_ms: list[float] = field(default_factory=list)
    keep_order: bool = False

    def add(self, channel: str, data: dict, received_at_ms: float) -> None:
        value = data.get("value") if isinstance(data, dict) else None
        seq = value.get("seq") if isinstance(value, dict) else None
        if not isinstance(seq, int):
            seq = data.get("offset", 0) + 1
        self.symbols.setdefault(channel, SymbolTally()).add(seq)
        if self.keep_order:
            self.order.setdefault(channel, []).append(seq)
        if isinstance(data.get("timestamp_ms"), (int, float)):
            self.latencies_ms.append(received_at_ms - data["timestamp_ms"])
        if isinstance(data.get("sent_at_ms"), (int, float)):
            self.relay_latencies_ms.append(received_at_ms - data["sent_at_ms"])

    @property
    def received(self) -> int:
        return sum(symbol.received for symbol in self.symbols.values())

    @property
    def unique(self) -> int:
        """Messages received at least once, not counting duplicates."""
        return sum(len(symbol.seen) for symbol in self.symbols.values())

    @property
    def lost(self) -> int:
        return sum(symbol.lost for symbol in self.symbols.values())

    @property
    def duplicates(self) -> int:
        return sum(symbol.duplicates for symbol in self.symbols.values())

    @property
    def out_of_order(self) -> int:
        return sum(symbol.out_of_order for symbol in self.symbols.values())

    def summary(self) -> dict:
        return {
            "received": self.received,
            "lost": self.lost,
            "out_of_order": self.out_of_order,
            "duplicates": self.duplicates,
            "latency_p50_ms": percentile(self.latencies_ms, 50),
            "latency_p99_ms": percentile(self.latencies_ms, 99),
        }


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 2)
