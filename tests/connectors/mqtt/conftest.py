"""Local fixtures: the lead registers tests.fixtures.mosquitto in tests/conftest.py; until
then (and harmlessly after), import them here for this package."""

from tests.fixtures.mosquitto import mosquitto, mosquitto_factory  # noqa: F401
