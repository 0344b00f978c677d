"""Every table of Kontor: the models of every module (kontor.modules) on one metadata, which
Alembic and the schema test read."""
from __future__ import annotations

from kernel.db import Base
from kontor.modules import MODULES

metadata = Base.metadata


def tables_by_module() -> dict[str, list[str]]:
    """module name -> the tables its model modules define."""
    found: dict[str, list[str]] = {}
    for module in MODULES:
        names = found.setdefault(module.name, [])
        for model in module.models:
            for value in vars(model).values():
                table = getattr(value, "__table__", None)
                if table is not None and getattr(value, "__module__", None) == model.__name__:
                    names.append(table.name)
        names.sort()
    return found
