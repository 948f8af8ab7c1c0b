"""The local stack: a real Kafka broker and the AppSync simulator on loopback."""
