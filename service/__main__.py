"""Entry point: python -m service, or the kafka-appsync-relay console script."""

from __future__ import annotations

import asyncio
import os
import sys

import structlog

from service.app import load_kafka_settings, run_relay
from service.errors import ConfigurationError
from service.logs import configure_logging
from service.settings import load_settings


def main() -> int:
    configure_logging(os.environ.get("RELAY_LOG_LEVEL", "INFO").upper(), os.environ.get("RELAY_LOG_FORMAT", "auto"))
    log = structlog.get_logger("service")
    try:
        settings = load_settings()
        kafka = load_kafka_settings()
    except ConfigurationError as error:
        log.error("relay cannot start", error=str(error))
        print(f"error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    log.info("settings loaded", relay=settings.masked(), kafka=kafka.model_dump(mode="json"))
    _install_event_loop_policy()
    try:
        asyncio.run(run_relay(settings, kafka))
    except ConfigurationError as error:
        log.error("relay cannot start", error=str(error))
        return 2
    return 0


def _install_event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


if __name__ == "__main__":
    sys.exit(main())
