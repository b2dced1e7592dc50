"""The MQTT tests use the session's fixtures (tests/conftest.py): mosquitto, and a real
durable `outbox` on the test's tmp_path."""
