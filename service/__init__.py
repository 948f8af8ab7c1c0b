"""The relay service: consume Kafka records and publish them as AppSync mutations."""
