"""Kafka connection settings, security options and topic creation, shared by the relay and the producer."""

from kafka_client.security import connection_options
from kafka_client.settings import KafkaSettings
from kafka_client.topics import ensure_topics

__all__ = ["KafkaSettings", "connection_options", "ensure_topics"]
