"""Staff add and edit appointments from the chart; patients see them in the portal."""

import datetime

from molar.patients.models import Appointment, Provider


def test_staff_add_and_edit_an_appointment(desk_client, complete_patient):
    provider = Provider.objects.create(name="Dr. Ada Reyes", abbreviation="DOC1")
    url = f"/staff/patients/{complete_patient.pk}/appointments/new/"
    response = desk_client.submit(
        url,
        {
            "start": "2026-12-01T09:30",
            "duration_minutes": "30",
            "provider": str(provider.pk),
            "status": "scheduled",
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.duration_minutes == 30 and appointment.provider == provider
    chart = desk_client.get(f"/staff/patients/{complete_patient.pk}/").content.decode()
    assert "Dec 1, 2026" in chart and "9:30 AM" in chart and "Dr. Ada Reyes" in chart
    edit = f"/staff/patients/{complete_patient.pk}/appointments/{appointment.pk}/"
    desk_client.submit(
        edit, {"start": "2026-12-01T09:30", "duration_minutes": "30", "provider": "", "status": "broken"}
    )
    appointment.refresh_from_db()
    assert appointment.status == "broken" and appointment.provider is None


def test_bad_appointment_input_is_reported(desk_client, complete_patient):
    url = f"/staff/patients/{complete_patient.pk}/appointments/new/"
    page = desk_client.submit(
        url, {"start": "soon", "duration_minutes": "0", "status": "scheduled"}
    ).content.decode()
    assert "Enter a valid date/time." in page
    assert "Ensure this value is greater than or equal to 5." in page
    assert not Appointment.objects.exists()


def test_appointment_of_another_patient_is_404(desk_client, make_patient):
    mine, other = make_patient(), make_patient()
    appointment = Appointment.objects.create(
        patient=other, start=datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC)
    )
    url = f"/staff/patients/{mine.pk}/appointments/{appointment.pk}/"
    assert desk_client.get(url).status_code == 404


def test_portal_shows_upcoming_and_past_of_this_patient_only(patient_client, complete_patient, make_patient):
    now = datetime.datetime.now(datetime.UTC)
    Appointment.objects.create(
        patient=complete_patient, start=now + datetime.timedelta(days=3), status="scheduled"
    )
    Appointment.objects.create(
        patient=complete_patient, start=now - datetime.timedelta(days=40), status="complete"
    )
    Appointment.objects.create(
        patient=make_patient(), start=now + datetime.timedelta(days=5), duration_minutes=99
    )
    page = patient_client.get("/portal/appointments/").content.decode()
    upcoming, past = page.split('id="past-h"')
    assert "Scheduled" in upcoming and "Complete" in past
    data = patient_client.get("/portal/api/appointments").json()["appointments"]
    assert len(data) == 2 and all(a["duration_minutes"] != 99 for a in data)
