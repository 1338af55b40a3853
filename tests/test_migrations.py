"""The Alembic migrations build exactly the schema the models describe."""

from app.migrate import pending_changes


def test_migrated_database_matches_the_models(database_url):
    assert pending_changes(database_url) == []
