"""Django's database sessions, read with one statement written once per
process (SPEC Q1).

Every request that carries a session cookie reads its row, before anything
else runs: staff pages, portal pages, even /healthz. Django reads it with
`Session.objects.get(...)`, and composing that query costs about twice what
the database spends answering it. This reads the same row, under the same
conditions (that key, not expired), with SQL composed once; on PostgreSQL
it becomes a prepared statement.

A new session (every sign-in) gets its key without first asking whether the
key is taken: 32 characters from 36 make about 165 random bits, and the
INSERT that stores the session is refused for a taken key anyway, which
makes Django draw another. A sign-in writes its new session once (see
cycle_key), with one statement and no transaction around it (see save).
Deleting is Django's own."""

import functools

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.models import Session
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils import timezone
from django.utils.crypto import get_random_string


@functools.cache
def _select(alias: str) -> str:
    meta = Session._meta
    quote = connections[alias].ops.quote_name
    column = {field.name: quote(field.column) for field in meta.concrete_fields}
    key, data, expires = column["session_key"], column["session_data"], column["expire_date"]
    return f"SELECT {data} FROM {quote(meta.db_table)} WHERE {key} = %s AND {expires} > %s"  # noqa: S608


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        key = self.session_key  # None when the cookie's value is not a possible key
        if key is None:
            return None
        alias = router.db_for_read(Session)
        connection = connections[alias]
        now = Session._meta.get_field("expire_date").get_db_prep_value(timezone.now(), connection)
        with connection.cursor() as cursor:
            cursor.execute(_select(alias), [key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django does: a new session gets a new key
            return None
        return Session(session_key=key, session_data=row[0])

    def cycle_key(self) -> None:
        """A new key for the same data (every sign-in: session fixation),
        written once. Django's creates the new row at once, empty, and the
        response then writes the data into it: an INSERT and an UPDATE, each
        in its own transaction, on every sign-in. Here the old row is deleted
        now (a copied cookie stops working at once) and the new one is
        written with its data by the response's save, which draws the new
        key. Until then `session_key` is None."""
        data = self._get_session()  # type: ignore[attr-defined]  # Django's; loaded before the key goes
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.model.objects.filter(session_key=key).delete()

    def save(self, must_create: bool = False) -> None:
        """Django's, without a transaction around the one statement when none
        is open: a lone INSERT or UPDATE is atomic by itself, and the BEGIN
        and COMMIT Django adds were two of the round trips of every sign-in.
        Inside a transaction Django's savepoint stays, so a refused key does
        not break the caller's transaction."""
        alias = router.db_for_write(self.model)
        if self.session_key is None or connections[alias].in_atomic_block:
            return super().save(must_create)
        obj = self.create_model_instance(self._get_session(no_load=must_create))  # type: ignore[attr-defined]
        try:
            obj.save(force_insert=must_create, force_update=not must_create, using=alias)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise

    def _get_new_session_key(self) -> str:
        # create() retries with another key when save(must_create=True) is refused.
        return get_random_string(32, VALID_KEY_CHARS)
