"""Writing what the sync read into Molar's records (SPEC O2): one function per
kind of record, each taking one batch. The caller runs each batch in its own
transaction, so a batch commits in a few milliseconds and no lock that staff
or patients need is held for long (SPEC Q3).

Only fields Open Dental owns are written; Molar's own data (accounts made
here, messages, audit, settings) is never touched. Each function returns a
Counter of what it did: added, changed, archived, removed."""

from collections import Counter
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from molar.access.models import AccessEvent
from molar.patients.models import Appointment, GuardianLink, Patient, Provider
from molar.practice.models import Clinic

from . import convert

PATIENT_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "preferred_name",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "birth_date",
    "home_phone",
    "work_phone",
    "wireless_phone",
    "email",
    "status",
    "gender",
    "language",
    "primary_provider_id",
    "clinic_id",
    "od_guarantor",
    "od_responsible",
)
APPOINTMENT_FIELDS = ("start", "status", "duration_minutes", "provider_id", "clinic_id")


def _adapt(model, names):
    """Per column, how a Python value becomes a parameter for this database."""
    ops, adapters = connection.ops, []
    for name in names:
        kind = model._meta.get_field(name).get_internal_type()
        adapters.append(
            ops.adapt_datetimefield_value
            if kind == "DateTimeField"
            else ops.adapt_datefield_value
            if kind == "DateField"
            else None
        )
    return adapters


def _params(adapters, values):
    return [
        value if adapt is None or value is None else adapt(value)
        for adapt, value in zip(adapters, values, strict=True)
    ]


def rows_insert(model, rows: list[dict]) -> None:
    """INSERT many rows with one prepared statement. The ORM's bulk_create
    spends more time preparing each value than the database spends storing
    it; the first sync writes a million appointments. Columns a row leaves
    out get the model's default."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    adapters, quote = _adapt(model, names), connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_params(adapters, [row.get(n, defaults[n]) for n in names]) for row in rows])


def rows_update(model, objs: list, names: list[str]) -> None:
    """UPDATE each object's `names` columns, one prepared statement for all."""
    if not objs:
        return
    adapters, quote = _adapt(model, names), connection.ops.quote_name
    sets = ", ".join(f"{quote(model._meta.get_field(n).column)} = %s" for n in names)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*_params(adapters, [getattr(o, n) for n in names]), o.pk] for o in objs])


def _changes(obj, values: dict) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _keep(model, known: dict, number_field: str, number: int, values: dict, done: Counter) -> None:
    """A clinic or provider as Open Dental has it: added when new (into
    `known`, by its Open Dental number), saved only when a value changed."""
    row = known.get(number)
    if row is None:
        known[number] = model.objects.create(**{number_field: number}, **values)
        done["added"] += 1
    elif _changes(row, values):
        row.save()
        done["changed"] += 1


def clinics_apply(rows: list[dict]) -> tuple[Counter, dict[int, int]]:
    """Clinics are few and have no change stamp: every pass reads them all."""
    done, known = Counter(), {c.od_clinic_num: c for c in Clinic.objects.filter(od_clinic_num__isnull=False)}
    for row in rows:
        values = {
            "name": convert.text(row["Description"], 255)
            or convert.text(row["Abbr"], 255)
            or f"Clinic {row['ClinicNum']}",
            "abbreviation": convert.text(row["Abbr"], 255),
            "address1": convert.text(row["Address"], 255),
            "address2": convert.text(row["Address2"], 255),
            "city": convert.text(row["City"], 255),
            "state": convert.text(row["State"], 255),
            "zip": convert.text(row["Zip"], 255),
            "phone": convert.text(row["Phone"], 255),
            "is_hidden": bool(convert.number(row["IsHidden"])),
        }
        _keep(Clinic, known, "od_clinic_num", row["ClinicNum"], values, done)
    return done, {num: clinic.pk for num, clinic in known.items()}


def _free_abbreviation(wanted: str, prov_num: int, taken: set[str]) -> str:
    """Provider abbreviations are unique here (20 characters); Open Dental's are
    not enforced, and a Molar provider may already use one."""
    candidate = wanted[:20] or f"OD{prov_num}"[:20]
    suffix = f"-{prov_num}"
    if candidate in taken:
        candidate = f"{wanted[: 20 - len(suffix)]}{suffix}"[-20:]
    while candidate in taken:
        candidate = f"P{abs(hash((candidate, prov_num))) % 10**18}"[:20]
    return candidate


def providers_apply(rows: list[dict]) -> tuple[Counter, dict[int, int]]:
    done = Counter()
    known = {p.od_prov_num: p for p in Provider.objects.filter(od_prov_num__isnull=False)}
    taken = set(Provider.objects.values_list("abbreviation", flat=True))
    for row in rows:
        provider = known.get(row["ProvNum"])
        name, abbr = convert.provider_name(row), convert.text(row["Abbr"], 255)
        if provider is not None:
            taken.discard(provider.abbreviation)
        abbreviation = _free_abbreviation(abbr, row["ProvNum"], taken)
        taken.add(abbreviation)
        _keep(
            Provider, known, "od_prov_num", row["ProvNum"], {"name": name, "abbreviation": abbreviation}, done
        )
    return done, {num: provider.pk for num, provider in known.items()}


def patients_apply(rows: list[dict], providers: dict[int, int], clinics: dict[int, int]) -> Counter:
    """Create or update the patients of one page of `patient` rows. A Molar
    patient whose external id is the PatNum (imported earlier from Open
    Dental) is taken over instead of duplicated."""
    done, now = Counter(), timezone.now()
    nums = [row["PatNum"] for row in rows]
    known = {p.od_pat_num: p for p in Patient.objects.filter(od_pat_num__in=nums)}
    adoptable = {
        p.external_id: p
        for p in Patient.objects.filter(
            od_pat_num__isnull=True, external_id__in=[str(n) for n in nums if n not in known]
        )
    }
    new, changed, fields = [], [], set()
    for row in rows:
        values = convert.patient_fields(row, providers, clinics)
        patient = known.get(row["PatNum"]) or adoptable.get(str(row["PatNum"]))
        if patient is None:
            new.append({**values, "od_pat_num": row["PatNum"], "created_at": now, "updated_at": now})
            continue
        was_archived = patient.status == Patient.Status.ARCHIVED
        names = _changes(patient, values)
        if patient.od_pat_num is None:
            patient.od_pat_num, names = row["PatNum"], [*names, "od_pat_num"]
        if names:
            patient.updated_at = now
            changed.append(patient)
            fields.update(names)
            done["changed"] += 1
            done["archived"] += not was_archived and patient.status == Patient.Status.ARCHIVED
    rows_insert(Patient, new)
    done["added"] += len(new)
    rows_update(Patient, changed, [*sorted(fields), "updated_at"])
    return done


# Managed patients whose guarantor or responsible party link differs from the
# PatNum Open Dental gave: one query over the patient table, keyset by id.
LINKS_SQL = """
SELECT p.id, g.id, r.id FROM {table} p
LEFT JOIN {table} g ON g.od_pat_num = p.od_guarantor
LEFT JOIN {table} r ON r.od_pat_num = p.od_responsible
WHERE p.id > %s AND p.od_pat_num IS NOT NULL AND (
  (p.guarantor_id IS NULL) <> (g.id IS NULL) OR p.guarantor_id <> g.id
  OR (p.responsible_party_id IS NULL) <> (r.id IS NULL) OR p.responsible_party_id <> r.id)
ORDER BY p.id LIMIT %s
"""


def family_links_page(after: int, size: int) -> list[tuple[int, int | None, int | None]]:
    """(patient, guarantor, responsible party) for the next `size` managed
    patients whose links are not yet what Open Dental says."""
    sql = LINKS_SQL.format(table=connection.ops.quote_name(Patient._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, size])
        return cursor.fetchall()


def family_links_apply(page: list[tuple[int, int | None, int | None]]) -> Counter:
    # One prepared UPDATE per row (executemany): bulk_update's CASE expressions
    # cost more to build than the whole write.
    table = connection.ops.quote_name(Patient._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET guarantor_id = %s, responsible_party_id = %s, updated_at = %s "  # noqa: S608
            "WHERE id = %s",
            [(g, r, now, pk) for pk, g, r in page],
        )
    return Counter(linked=len(page))


def guardians_wanted(rows: Iterable[dict]) -> dict[tuple[int, int], tuple[int, str, bool]]:
    """(child PatNum, guardian PatNum) -> (GuardianNum, relationship, is guardian).
    Several rows for one pair become one link: a guardian if any row says so."""
    wanted: dict[tuple[int, int], tuple[int, str, bool]] = {}
    for row in rows:
        pair = (row["PatNumChild"], row["PatNumGuardian"])
        if pair[0] == pair[1] or not all(pair):
            continue
        link = (
            row["GuardianNum"],
            convert.relationship(row["Relationship"]),
            bool(convert.number(row["IsGuardian"])),
        )
        before = wanted.get(pair)
        if before is None or (link[2] and not before[2]):
            wanted[pair] = (min(link[0], before[0]) if before else link[0], link[1], link[2])
    return wanted


def guardians_plan(
    wanted: dict[tuple[int, int], tuple[int, str, bool]], ids: dict[int, int]
) -> tuple[list[int], list[tuple]]:
    """What makes Molar's Open Dental links (od_guardian_num set) match `wanted`,
    given PatNum -> patient id: (links to delete, [(link or None, child,
    guardian, values)] to write). A link staff made here for the same pair is
    taken over; other links staff made stay."""
    target = {(ids[c], ids[g]): link for (c, g), link in wanted.items() if c in ids and g in ids}
    links = {
        (link.patient_id, link.guardian_id): link
        for link in GuardianLink.objects.filter(od_guardian_num__isnull=False)
    }
    stale = [link.pk for pair, link in links.items() if pair not in target]
    missing = {pair for pair in target if pair not in links}
    children = sorted({child for child, _ in missing})
    for start in range(0, len(children), 500):
        for own in GuardianLink.objects.filter(
            od_guardian_num__isnull=True, patient_id__in=children[start : start + 500]
        ):
            if (own.patient_id, own.guardian_id) in missing:
                links[(own.patient_id, own.guardian_id)] = own
    writes = []
    for pair, (num, relationship, is_guardian) in target.items():
        values = {"od_guardian_num": num, "relationship": relationship, "is_guardian": is_guardian}
        link = links.get(pair)
        if link is None or any(getattr(link, k) != v for k, v in values.items()):
            writes.append((link, pair[0], pair[1], values))
    return stale, writes


def guardians_write(stale: list[int], writes: list[tuple]) -> Counter:
    done = Counter(removed=GuardianLink.objects.filter(pk__in=stale).delete()[0])
    new = []
    for link, child, guardian, values in writes:
        if link is None:
            new.append(GuardianLink(patient_id=child, guardian_id=guardian, **values))
        else:
            _changes(link, values)
            link.save()
            done["changed"] += 1
    GuardianLink.objects.bulk_create(new)
    done["added"] += len(new)
    return done


def patient_ids(pat_nums: Iterable[int]) -> dict[int, int]:
    """PatNum -> Molar patient id for the synced patients among `pat_nums`."""
    return dict(Patient.objects.filter(od_pat_num__in=set(pat_nums)).values_list("od_pat_num", "id"))


def appointments_apply(
    rows: list[dict], providers: dict[int, int], clinics: dict[int, int]
) -> tuple[Counter, int]:
    """One page of `appointment` rows; rows that are not visits remove the
    appointment. Returns the counts and how many rows named no known patient."""
    done, now, orphans = Counter(), timezone.now(), 0
    patients = patient_ids(row["PatNum"] for row in rows)
    known = {
        a.od_apt_num: a for a in Appointment.objects.filter(od_apt_num__in=[row["AptNum"] for row in rows])
    }
    new, changed, fields, gone = [], [], set(), []
    for row in rows:
        values = convert.appointment_fields(row, providers, clinics)
        appointment = known.get(row["AptNum"])
        patient = patients.get(row["PatNum"])
        if values is None or patient is None:
            orphans += values is not None
            if appointment is not None:
                gone.append(appointment.pk)
            continue
        values["patient_id"] = patient
        if appointment is None:
            new.append({**values, "od_apt_num": row["AptNum"], "created_at": now, "updated_at": now})
        else:
            names = _changes(appointment, values)
            if names:
                appointment.updated_at = now
                changed.append(appointment)
                fields.update(names)
    rows_insert(Appointment, new)
    rows_update(Appointment, changed, [*sorted(fields), "updated_at"])
    done.update(added=len(new), changed=len(changed), removed=appointments_remove(gone))
    return done, orphans


def appointments_remove(ids: list[int]) -> int:
    if not ids:
        return 0
    _, per_model = Appointment.objects.filter(pk__in=ids, od_apt_num__isnull=False).delete()
    return per_model.get(Appointment._meta.label, 0)


def events_apply(rows: list[dict]) -> tuple[Counter, int]:
    """`ehrmeasureevent` OnlineAccessProvided rows as Molar's measure events (E1)."""
    nums = [row["EhrMeasureEventNum"] for row in rows]
    have = set(AccessEvent.objects.filter(od_event_num__in=nums).values_list("od_event_num", flat=True))
    patients = patient_ids(row["PatNum"] for row in rows)
    new, orphans = [], 0
    for row in rows:
        when, patient = convert.local(row["DateTEvent"]), patients.get(row["PatNum"])
        if row["EhrMeasureEventNum"] in have:
            continue
        if patient is None or when is None:
            orphans += 1
            continue
        new.append(
            AccessEvent(
                patient_id=patient,
                kind=AccessEvent.Kind.ONLINE_ACCESS_PROVIDED,
                source="opendental",
                created_at=when,
                od_event_num=row["EhrMeasureEventNum"],
            )
        )
    AccessEvent.objects.bulk_create(new, ignore_conflicts=True)
    return Counter(added=len(new)), orphans


def patients_archive_missing(ids: list[int]) -> Counter:
    """SPEC O3 --full: patients no longer in Open Dental at all are archived."""
    count = (
        Patient.objects.filter(pk__in=ids)
        .exclude(status=Patient.Status.ARCHIVED)
        .update(status=Patient.Status.ARCHIVED, updated_at=timezone.now())
    )
    return Counter(archived=count)
