from molar.patients.models import Appointment, Patient


def test_first_sync(od, sync):
    prov = od.provider()
    g = od.patient(FName="Ana", PriProv=prov, Language="spa", Gender=1)
    kid = od.patient(FName="Leo", Guarantor=g)
    od.appointment(kid, ProvNum=prov, AptStatus=2)
    od.userweb(g, "Ana123", "None$$")
    record = sync()
    print(record.__dict__)
    assert Patient.objects.count() == 2
    assert Appointment.objects.count() == 1
    leo = Patient.objects.get(first_name="Leo")
    assert leo.guarantor.first_name == "Ana"
    record = sync()
    print(record.__dict__)
    assert record.total_changes == 0
