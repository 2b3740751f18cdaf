"""An Open Dental database in the MariaDB server on 127.0.0.1:3306 for each test
(a unique `od_test_<random>` name, dropped afterwards), and the sync pointed at it."""

import os

import pytest

from molar.opendental import testdb

SERVER = os.environ.get("OPENDENTAL_TEST_SERVER", testdb.SERVER_URL)


@pytest.fixture
def od(settings, practice):
    url = testdb.create(SERVER)
    settings.OPENDENTAL_DATABASE_URL = url
    writer = testdb.Writer(url)
    try:
        yield writer
    finally:
        writer.close()
        testdb.drop(url)


@pytest.fixture
def sync():
    from molar.opendental.services import opendental_sync

    def run(full: bool = False):
        return opendental_sync(full=full)

    return run
