"""The Alembic migrations create exactly the schema the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import kontor.schema  # noqa: F401  (registers every table)
from kontor.db import Base


def test_migrated_schema_matches_the_models(kontor):
    with kontor.engine.connect() as connection:
        dialect = connection.dialect.name

        def include(obj, name, kind, reflected, compare_to):  # objects built on one database only
            only_on = getattr(obj, "info", {}).get("only_on") if obj is not None else None
            return only_on is None or only_on == dialect

        context = MigrationContext.configure(connection, opts={"compare_type": False, "include_object": include})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
