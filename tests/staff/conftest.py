"""Staff fixtures: the console's accounts per role and its signed-in clients (shared)."""

from tests.console.conftest import cheap_hashing, console, staff, world  # noqa: F401
