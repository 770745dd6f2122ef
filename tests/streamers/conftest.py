"""The venue sandboxes, shared with the streamers that read from them (the database is tests/conftest.py's `engine`)."""

from tests.sandbox.conftest import kalshi_sandbox, rsa_keys  # noqa: F401  (fixtures)
from tests.sandbox.polymarket.conftest import polymarket  # noqa: F401  (fixture)
