"""Issue 6, item 7: a tab makes the same number of queries whatever the
length of the patient's history."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import document, health, ledger, plan, statement

TABS = ["/portal/account/", "/portal/treatment-plan/", "/portal/health-summary/", "/portal/documents/"]


def grow(patient, n: int) -> None:
    for i in range(n):
        day = datetime.date(2025, 1, 1) + datetime.timedelta(days=i)
        ledger(patient, amount="10.00", date=day, description=f"Visit {i}")
        statement(patient, start=day, end=day)
        plan(patient, name=f"Plan {i}", fees=("10.00", "20.00", "30.00"))
        health(patient, tag=f"-{i}")
        document(patient, title=f"Document {i}")


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", TABS)
def test_tab_queries_do_not_grow_with_the_history(patient_client, me, url, settings):
    settings.PORTAL_PAGE_SECONDS = 0  # each page rendered: what a change of the record costs
    grow(me, 1)
    patient_client.get(url)  # the session's first touch is not what we measure
    small = queries(patient_client, url)
    grow(me, 20)
    assert queries(patient_client, url) == small


@pytest.mark.parametrize("url", ["/portal/health-summary.pdf", "/portal/health-summary.json"])
def test_health_summary_downloads_do_not_grow_with_the_history(patient_client, me, url):
    grow(me, 1)
    patient_client.get(url)
    small = queries(patient_client, url)
    grow(me, 20)
    assert queries(patient_client, url) == small


def test_staff_records_page_does_not_grow_with_the_history(desk_client, me):
    grow(me, 1)
    url = f"/staff/patients/{me.pk}/records/"
    desk_client.get(url)
    small = queries(desk_client, url)
    grow(me, 20)
    assert queries(desk_client, url) == small
