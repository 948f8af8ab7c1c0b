"""Entry point: python -m service, or the kafka-appsync-relay console script."""

from __future__ import annotations

import asyncio
import os
import sys

import structlog

from service.app import load_kafka_settings, run_relay
from service.errors import ConfigurationError, StartupError
from service.logs import configure_logging
from service.settings import load_settings


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def main() -> int:
    # Until the settings are validated, log at INFO unless the level is valid.
    level = os.environ.get("RELAY_LOG_LEVEL", "INFO").upper()
    configure_logging(level if level in _LOG_LEVELS else "INFO", os.environ.get("RELAY_LOG_FORMAT", "auto"))
    log = structlog.get_logger("service")

    # Validate both groups before failing, so one start reports every bad variable.
    problems = []
    try:
        settings = load_settings()
    except ConfigurationError as error:
        problems.append(str(error))
    try:
        kafka = load_kafka_settings()
    except ConfigurationError as error:
        problems.append(str(error))
    if problems:
        log.error("relay cannot start", error="\n".join(problems))
        return 2

    configure_logging(settings.log_level, settings.log_format)
    log.info("settings loaded", relay=settings.masked(), kafka=kafka.model_dump(mode="json"))
    _install_event_loop_policy()
    try:
        asyncio.run(run_relay(settings, kafka))
    except ConfigurationError as error:
        log.error("relay cannot start", error=str(error))
        return 2
    except StartupError as error:
        log.error("relay cannot start", error=str(error))
        return 1
    return 0


def _install_event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


if __name__ == "__main__":
    sys.exit(main())
