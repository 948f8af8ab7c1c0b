"""Relay settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.errors import ConfigurationError
from service.settings import load_settings

BASE = {"RELAY_TOPICS": "ticks", "RELAY_APPSYNC_URL": "https://example.appsync-api.eu-west-1.amazonaws.com/graphql",
        "RELAY_APPSYNC_API_KEY": "da2-secret-value"}


@pytest.fixture
def environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("RELAY_"):
            monkeypatch.delenv(name)

    def apply(**overrides):
        for name, value in {**BASE, **overrides}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return apply


def test_defaults(environment):
    environment()
    settings = load_settings()
    assert (settings.ordering, settings.channel_from, settings.batch_max_records) == ("partition", "key", 50)


def test_missing_url_named(environment):
    environment(RELAY_APPSYNC_URL=None)
    with pytest.raises(ConfigurationError, match="RELAY_APPSYNC_URL"):
        load_settings()


def test_invalid_ordering_named(environment):
    environment(RELAY_ORDERING="global")
    with pytest.raises(ConfigurationError, match="RELAY_ORDERING"):
        load_settings()


def test_invalid_number_named(environment):
    environment(RELAY_BATCH_MAX_RECORDS="many")
    with pytest.raises(ConfigurationError, match="RELAY_BATCH_MAX_RECORDS"):
        load_settings()


def test_topics_and_pattern_exclusive(environment):
    environment(RELAY_TOPIC_PATTERN="ticks.*")
    with pytest.raises(ConfigurationError, match="RELAY_TOPIC_PATTERN"):
        load_settings()


def test_api_key_required(environment):
    environment(RELAY_APPSYNC_API_KEY=None)
    with pytest.raises(ConfigurationError, match="RELAY_APPSYNC_API_KEY"):
        load_settings()


def test_api_key_masked(environment):
    environment()
    assert "da2-secret-value" not in repr(load_settings().masked())


def test_api_key_not_in_repr(environment):
    environment()
    assert "da2-secret-value" not in repr(load_settings())


@pytest.fixture(scope="module")
def start_without_url():
    """Run `python -m service` with RELAY_APPSYNC_URL missing."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("RELAY_", "KAFKA_"))}
    env.update(RELAY_TOPICS="ticks", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    return subprocess.run([sys.executable, "-m", "service"], env=env, capture_output=True, text=True, timeout=60)


def test_start_fails_exit_code(start_without_url):
    assert start_without_url.returncode == 2


def test_start_fails_naming_variable(start_without_url):
    assert "RELAY_APPSYNC_URL" in start_without_url.stderr
