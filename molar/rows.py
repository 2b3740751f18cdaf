"""Model instances from hand-written SQL, for the few queries every portal
page runs (SPEC Q1). Composing and compiling an ORM query costs more than
running it (about a millisecond for the signed-in account with its family
flags, against a fraction of that in the database); these queries are
written once, and their rows become ordinary model instances with the same
conversions the ORM applies (dates and times on SQLite, decimals, JSON).
Everything else keeps using the ORM."""

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class Columns(Generic[M]):
    """A model's concrete columns under a table alias: `select` for the SQL,
    `load(values)` for an instance from that slice of a row."""

    def __init__(self, model: type[M], alias: str, using: str = "default") -> None:
        self.model, self.using = model, using
        connection = connections[using]
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        self.select = ", ".join(f"{alias}.{quote(field.column)}" for field in fields)
        self.width = len(fields)
        self._names = [field.attname for field in fields]
        # Only the columns that need one (most need none on PostgreSQL).
        self._converters: list[tuple[int, Any, list[Converter]]] = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if converters:
                self._converters.append((index, column, converters))

    def load(self, values: Sequence[Any]) -> M:
        if len(values) != self.width:
            raise ValueError(f"{self.model.__name__}: {len(values)} values for {self.width} columns")
        connection = connections[self.using]
        converted = list(values)
        for index, column, converters in self._converters:
            value = converted[index]
            for convert in converters:
                value = convert(value, column, connection)
            converted[index] = value
        return self.model.from_db(self.using, self._names, converted)
