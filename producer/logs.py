"""structlog set-up for the CLI and the Lambda handler."""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable, TextIO

import structlog


_HANDLER_NAME = "producer"
# aiokafka repeats some lines every 100 ms while a topic is missing or a broker is down.
REPEAT_INTERVAL_S = 10.0


class RepeatFilter(logging.Filter):
    """Pass each distinct standard-library log message at most once per `interval_s`, counting what it drops."""

    def __init__(self, interval_s: float = REPEAT_INTERVAL_S, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._last_passed: dict[tuple[str, str], float] = {}
        self._dropped: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.getMessage())
        now = self._clock()
        last = self._last_passed.get(key)
        if last is not None and now - last < self.interval_s:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return False
        self._last_passed[key] = now
        dropped = self._dropped.pop(key, 0)
        if dropped:
            record.msg = f"{record.getMessage()} (repeated {dropped} times since the last line)"
            record.args = None
        return True


def configure_logging(level: str = "INFO", *, json_format: bool | None = None, stream: TextIO = sys.stderr) -> None:
    """Log through structlog to `stream`: JSON lines, or readable lines when `json_format` is None and the stream is a TTY."""
    if json_format is None:
        json_format = not stream.isatty()
    renderer = structlog.processors.JSONRenderer() if json_format else structlog.dev.ConsoleRenderer()
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )

    # aiokafka logs through the standard library; render its lines the same way.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared_processors])
    )
    handler.addFilter(RepeatFilter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only a handler of an earlier call, keeping handlers that others added.
    root.handlers = [existing for existing in root.handlers if existing.get_name() != _HANDLER_NAME]
    root.addHandler(handler)
    root.setLevel(level.upper())
