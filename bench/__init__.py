"""Molar's benchmarks (`make bench`, or `python -m bench` from the project root).

One run sets up a throw-away practice (its own MOLAR_HOME, SQLite by default,
also PostgreSQL when BENCH_DATABASE_URL is set), serves it with `molar serve`
on a free port of 127.0.0.1, measures it from this process, stops it, and
prints one table. Nothing is sent anywhere but 127.0.0.1.

`BENCH=invites make bench` measures the invite worker instead (bench/invites.py:
the due-invite scan among 1,000,000 appointments, invites sent per second, the
worker's peak memory over 10,000 invites; about a quarter of an hour per
database); `BENCH=all` runs both."""


class BenchError(Exception):
    """The benchmark could not run; the message says why in one line."""
