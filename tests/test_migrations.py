"""The Alembic migrations create exactly the schema the models describe, on both databases: tables,
columns with their types, constraints and indexes, the expression indexes included (Alembic's
comparison leaves those out on SQLite, so they are compared here by their definition)."""
import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, text

import kontor.schema  # noqa: F401  (registers every table)
from kernel.db import Base


def _only_here(obj, dialect: str) -> bool:
    only_on = getattr(obj, "info", {}).get("only_on") if obj is not None else None
    return only_on is None or only_on == dialect


def test_migrated_schema_matches_the_models(kontor):
    with kontor.engine.connect() as connection:
        dialect = connection.dialect.name

        def include(obj, name, kind, reflected, compare_to):  # objects built on one database only
            return _only_here(obj, dialect)

        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _normalized(sql: str) -> str:
    return re.sub(r"[\s\"()]", "", sql).lower()


def test_migrated_expression_indexes_match_the_models(kontor):
    with kontor.engine.connect() as connection:
        dialect = connection.dialect
        wanted = {}
        for table in Base.metadata.sorted_tables:
            for index in table.indexes:
                if _only_here(index, dialect.name) and any(not isinstance(e, Column) for e in index.expressions):
                    parts = [str(e.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                             for e in index.expressions]
                    wanted[index.name] = (table.name, [_normalized(p) for p in parts])
        assert wanted, "the models declare no expression index: this test no longer checks anything"
        if dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
                                           "AND sql IS NOT NULL")).all()
        else:
            rows = connection.execute(text("SELECT indexname, tablename, indexdef FROM pg_indexes "
                                           "WHERE schemaname = current_schema()")).all()
        found = {name: (table, _normalized(definition)) for name, table, definition in rows}
    for name, (table, parts) in wanted.items():
        assert name in found, f"the migrations create no index {name} on {table}"
        assert found[name][0] == table, (name, found[name])
        assert all(part in found[name][1] for part in parts), (name, parts, found[name][1])
