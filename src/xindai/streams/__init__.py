"""Adapters to the event bus: the in-process bus (default) and Redis Streams (producer, worker)."""
