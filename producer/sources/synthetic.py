"""Synthetic ticks for benchmarks and soak runs: a geometric random walk per symbol."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from producer.pacing import Pace
from producer.tick import Tick

# Per-tick log-return standard deviation: 0.1 %, about what a liquid stock
# moves between one-second bars. High and low reach past open and close by
# half of that on average.
DEFAULT_VOLATILITY = 0.001
_PRICE_DECIMALS = 4


def synthetic_symbols(count: int) -> list[str]:
    """Return `count` symbol names: SYM000, SYM001, ... (more digits from 1,000 on)."""
    if count < 1:
        raise ValueError(f"{count} synthetic symbols requested; request at least 1")
    width = max(3, len(str(count - 1)))
    return [f"SYM{index:0{width}d}" for index in range(count)]


@dataclass(slots=True)
class _WalkState:
    price: float


class RandomWalk:
    """A geometric random walk per symbol, reproducible from its seed.

    Each tick opens at the previous close. Its high is at least max(open, close),
    its low at most min(open, close), and its volume is a positive integer.
    """

    def __init__(self, symbols: list[str], *, seed: int | None = None, volatility: float = DEFAULT_VOLATILITY):
        if not symbols:
            raise ValueError("the random walk needs at least one symbol")
        if not volatility > 0:
            raise ValueError(f"volatility {volatility} is invalid; use a per-tick standard deviation above 0, e.g. 0.001")
        self.symbols = list(symbols)
        self.volatility = volatility
        self._random = random.Random(seed)
        self._states = {symbol: _WalkState(price=round(self._random.uniform(10.0, 500.0), 2)) for symbol in self.symbols}

    def step(self, symbol: str, ts: datetime) -> Tick:
        """Advance `symbol` by one tick at time `ts`."""
        state = self._states[symbol]
        open_ = state.price
        close = open_ * math.exp(self._random.gauss(0.0, self.volatility))
        high = max(open_, close) * math.exp(abs(self._random.gauss(0.0, self.volatility / 2)))
        low = min(open_, close) * math.exp(-abs(self._random.gauss(0.0, self.volatility / 2)))
        # Rounding is monotonic, so the rounded high and low still bound the rounded open and close.
        open_, high, low, close = (round(price, _PRICE_DECIMALS) for price in (open_, high, low, close))
        state.price = close
        return Tick(
            symbol=symbol,
            ts=ts,
            open=open_,
            high=high,
            low=low,
            close=close,
            adj_close=close,
            volume=1 + int(self._random.lognormvariate(6.0, 1.0)),
        )

    def ticks(self, start: datetime, pace: Pace, limit: int | None = None) -> Iterator[Tick]:
        """Yield ticks for the symbols in turn, tick `i` stamped `start + i × interval`; stop after `limit` if given."""
        index = 0
        while limit is None or index < limit:
            symbol = self.symbols[index % len(self.symbols)]
            yield self.step(symbol, pace.scheduled_at(start, index))
            index += 1
