"""One pass of the Open Dental sync (SPEC O2, O3, Q3).

A pass reads the Open Dental tables phase by phase, in keyset pages, and
writes each page into Molar in its own short transaction. The same
transaction moves the checkpoint and renews the lease on the status row, so
a pass that stops (a crash, a lost connection, Ctrl-C) is resumed by the next
one from the last committed page, and a worker that died lets another take
over once its lease runs out.

Incremental by change stamps: patients and appointments stamped since the
last finished pass *started* (the server's clock, read in UTC), less an
overlap window for rows committed late (a long transaction, MyISAM's
half-applied writes). Tables without a stamp are small and read whole, or
only grow and are read above the last key (less a margin, since keys are
handed out before commit). Re-reading a row that did not change writes
nothing, so running a pass twice changes nothing."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from molar.access.opendental import (
    OpenDentalAccount,
    access_remove_for_deleted,
    access_sync_opendental,
    opendental_flag,
    opendental_last_login,
    opendental_password,
)
from molar.audit.services import Actor
from molar.patients.models import Appointment, Patient, Provider
from molar.practice.models import Clinic, PracticeSettings, validate_patient_facing_url
from molar.practice.services import practice_settings_update
from molar.refusal import Refused

from . import apply, convert
from .models import SyncPass, SyncState
from .reader import Source

OVERLAP = timedelta(minutes=10)
KEY_OVERLAP = 1000
PAGE = 2000
ACCOUNT_PAGE = 1000
LEASE = timedelta(minutes=10)
MAX_MESSAGES = 50
PHASES = (
    "practice",
    "clinics",
    "providers",
    "patients",
    "family",
    "guardians",
    "appointments",
    "deleted_appointments",
    "deleted_patients",
    "accounts",
    "events",
    "reconcile_patients",
    "reconcile_appointments",
)
FULL_ONLY = ("reconcile_patients", "reconcile_appointments")
ACTOR = Actor.system("opendental")


class LeaseLost(Exception):
    """Another process took the sync over (this one stalled past its lease)."""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Pass:
    def __init__(
        self,
        *,
        source: Source,
        record: SyncPass,
        plan: dict,
        owner: str,
        progress: Callable[[str, int], None] | None = None,
    ):
        self.source, self.record, self.plan, self.owner = source, record, plan, owner
        self.progress = progress or (lambda phase, done: None)
        self.detail: defaultdict[str, Counter] = defaultdict(Counter)
        for kind, counts in (record.detail or {}).items():
            self.detail[kind].update(counts)
        self.problems: list[str] = list(record.problems or [])
        self.clashes: list[str] = list(record.clashes or [])
        self.errors = record.errors
        since = _parse(plan.get("since"))
        # None: read every row (the first pass, and --full).
        self.stamp_since = None if plan["full"] or since is None else since - OVERLAP

    # --- bookkeeping ------------------------------------------------------------------

    def run(self) -> None:
        phase = self.plan.get("phase") or PHASES[0]
        for name in PHASES[PHASES.index(phase) :]:
            if name in FULL_ONLY and not self.plan["full"]:
                continue
            after = self.plan.get("after") if name == phase else None
            self.plan["phase"], self.plan["after"] = name, after
            getattr(self, f"_{name}")(after)

    def count(self, kind: str, counts: Counter | dict) -> None:
        self.detail[kind].update({k: v for k, v in counts.items() if v})

    def problem(self, message: str, rows: int = 1) -> None:
        self.errors += rows
        if len(self.problems) < MAX_MESSAGES:
            self.problems.append(message)

    def commit(self, phase: str, after: int | None) -> None:
        """Inside the page's transaction: checkpoint, lease and counts move with it."""
        self.plan["phase"], self.plan["after"] = phase, after
        now = timezone.now()
        claimed = SyncState.objects.filter(pk=1, lease_owner=self.owner).update(
            lease_until=now + LEASE, checkpoint=self.plan
        )
        if not claimed:
            raise LeaseLost("Another process took over the Open Dental sync.")
        totals = self.totals()
        SyncPass.objects.filter(pk=self.record.pk).update(
            detail={k: dict(v) for k, v in self.detail.items()},
            problems=self.problems,
            clashes=self.clashes[:MAX_MESSAGES],
            **totals,
        )

    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for counts in self.detail.values():
            total.update(counts)
        return {
            "added": total["added"],
            "changed": total["changed"],
            "archived": total["archived"],
            "removed": total["removed"],
            "accounts": total["created"] + total["updated"] + total["access_removed"],
            "errors": self.errors + len(self.clashes),
        }

    def pages(self, table: str, after: int | None, phase: str, **kwargs: Any) -> Iterator[list[dict]]:
        done = 0
        for page in self.source.pages(table, after=after, **kwargs):
            yield page
            done += len(page)
            self.progress(phase, done)

    def stamped(self) -> dict:
        if self.stamp_since is None:
            return {}
        return {
            "where": "t.DateTStamp >= %s",
            "params": (self.stamp_since.astimezone(UTC).replace(tzinfo=None),),
        }

    def quiet(self, *tables: str) -> bool:
        """Every table unchanged since before the last pass started, by the
        server's own record: nothing there to read. Unknown (NULL) is never
        quiet, nor is anything in a --full pass."""
        return all(table in self.plan.get("quiet", ()) for table in tables)

    # --- lookups the phases share -------------------------------------------------------

    def providers(self) -> dict[int, int]:
        if not hasattr(self, "provider_ids"):
            self.provider_ids = cast(
                dict[int, int],
                dict(Provider.objects.filter(od_prov_num__isnull=False).values_list("od_prov_num", "id")),
            )  # no None: filtered out
        return self.provider_ids

    def clinics(self) -> dict[int, int]:
        if not self.plan.get("clinics_in_use"):
            return {}
        if not hasattr(self, "clinic_ids"):
            self.clinic_ids = cast(
                dict[int, int],
                dict(Clinic.objects.filter(od_clinic_num__isnull=False).values_list("od_clinic_num", "id")),
            )  # no None: filtered out
        return self.clinic_ids

    # --- phases ---------------------------------------------------------------------------

    def _practice(self, after: int | None) -> None:
        prefs = self.source.preferences()  # always: later phases need two of them
        self.plan["random_keys"] = prefs.get("RandomPrimaryKeys", "0").strip() == "1"
        self.plan["clinics_in_use"] = prefs.get("EasyNoClinics", "1").strip() == "0"
        # Blank preferences leave Molar's values; the address moves as one block.
        values = {
            "practice_name": convert.text(prefs.get("PracticeTitle"), 100),
            "practice_phone": convert.text(prefs.get("PracticePhone"), 30),
        }
        values = {name: value for name, value in values.items() if value}
        if convert.text(prefs.get("PracticeAddress"), 100):
            values.update(
                {
                    "address1": convert.text(prefs.get("PracticeAddress"), 100),
                    "address2": convert.text(prefs.get("PracticeAddress2"), 100),
                    "city": convert.text(prefs.get("PracticeCity"), 60),
                    "state": convert.text(prefs.get("PracticeST"), 30),
                    "zip": convert.text(prefs.get("PracticeZip"), 15),
                }
            )
        practice = PracticeSettings.load()
        url = convert.text(prefs.get("PatientPortalURL"), 300)
        if url and not practice.patient_facing_url:
            try:
                validate_patient_facing_url(url)
                values["patient_facing_url"] = url
            except Exception:  # noqa: BLE001 - a ValidationError: reported, not used
                self.problem(
                    f"Open Dental's PatientPortalURL {url[:100]} is not an https:// "
                    "address; Molar's Patient Facing URL was left empty."
                )
        changed = [k for k, v in values.items() if getattr(practice, k) != v]
        with transaction.atomic():
            if changed:
                try:
                    practice_settings_update(actor=ACTOR, opendental=True, **{k: values[k] for k in changed})
                except Refused as exc:
                    self.problem("Practice settings from Open Dental were refused: " + " ".join(exc.messages))
                else:
                    self.count("practice", {"changed": 1})
            self.commit("clinics", None)

    def _clinics(self, after: int | None) -> None:
        if self.quiet("clinic", "preference"):
            return
        with transaction.atomic():
            if self.plan.get("clinics_in_use"):
                rows = [row for page in self.source.pages("clinic") for row in page]
                done, self.clinic_ids = apply.clinics_apply(rows)
                self.count("clinics", done)
            self.commit("providers", None)

    def _providers(self, after: int | None) -> None:
        if self.quiet("provider"):
            return
        rows = [row for page in self.source.pages("provider") for row in page]
        with transaction.atomic():
            done, self.provider_ids = apply.providers_apply(rows)
            self.count("providers", done)
            self.commit("patients", None)

    def _patients(self, after: int | None) -> None:
        if self.quiet("patient"):
            return
        for page in self.pages("patient", after, "patients", size=PAGE // 2, **self.stamped()):
            with transaction.atomic():
                self.count("patients", apply.patients_apply(page, self.providers(), self.clinics()))
                self.commit("patients", page[-1]["PatNum"])

    def _family(self, after: int | None) -> None:
        if self.quiet("patient"):
            return
        last = after or 0
        while page := apply.family_links_page(last, PAGE):
            with transaction.atomic():
                self.count("patients", apply.family_links_apply(page))
                last = page[-1][0]
                self.commit("family", last)

    def _guardians(self, after: int | None) -> None:
        # Small, no stamp, rows deleted: read whole, compared with Molar's.
        if self.quiet("guardian", "patient"):
            return
        wanted = apply.guardians_wanted(row for page in self.source.pages("guardian") for row in page)
        nums = sorted({num for pair in wanted for num in pair})
        ids: dict[int, int] = {}
        for start in range(0, len(nums), PAGE):
            ids.update(apply.patient_ids(nums[start : start + PAGE]))
        stale, writes = apply.guardians_plan(wanted, ids)
        for start in range(0, max(len(stale), len(writes), 1), PAGE // 4):
            with transaction.atomic():
                self.count(
                    "guardians",
                    apply.guardians_write(
                        stale[start : start + PAGE // 4], writes[start : start + PAGE // 4]
                    ),
                )
                self.commit("guardians", None)

    def _appointments(self, after: int | None) -> None:
        if self.quiet("appointment"):
            return
        orphans = 0
        for page in self.pages("appointment", after, "appointments", size=PAGE, **self.stamped()):
            with transaction.atomic():
                done, missing = apply.appointments_apply(page, self.providers(), self.clinics())
                self.count("appointments", done)
                orphans += missing
                self.commit("appointments", page[-1]["AptNum"])
        if orphans:
            self.problem(f"{orphans} appointment(s) name a PatNum that is not a patient; skipped.", orphans)

    def _deleted_appointments(self, after: int | None) -> None:
        """Appointments are deleted in Open Dental, after a histappointment row
        with HistApptAction 4 (Deleted)."""
        if self.quiet("histappointment"):
            return
        if self.plan.get("random_keys"):
            since = _parse(self.plan.get("since"))
            if since is None:
                return self.commit("deleted_appointments", None)
            local = timezone.localtime(since - timedelta(days=1)).replace(tzinfo=None)
            kwargs: dict[str, Any] = {
                "where": "t.HistApptAction = 4 AND t.HistDateTStamp >= %s",
                "params": (local,),
            }
            start = after
        else:
            # Up to the largest key now: the next pass starts there (less a
            # margin), not at the last Deleted row, so it reads little.
            top = self.plan.setdefault("hist_top", self.source.largest_key("histappointment"))
            kwargs = {"where": "t.HistApptAction = 4", "until": top}
            start = after if after is not None else max(0, self.plan.get("hist_key", 0) - KEY_OVERLAP)
        for page in self.source.pages("histappointment", after=start, size=PAGE, **kwargs):
            nums = sorted({row["AptNum"] for row in page})
            gone = [num for num in nums if num not in self.source.existing("appointment", nums)]
            ids = list(Appointment.objects.filter(od_apt_num__in=gone).values_list("id", flat=True))
            with transaction.atomic():
                self.count("appointments", {"removed": apply.appointments_remove(ids)})
                self.commit("deleted_appointments", page[-1]["HistApptNum"])
        if not self.plan.get("random_keys"):
            self.plan["hist_key"] = max(self.plan.get("hist_key", 0), self.plan["hist_top"])

    def _deleted_patients(self, after: int | None) -> None:
        """SPEC O3: a deleted patient (PatStatus 4) is archived (patients phase)
        and loses portal access, through access_remove (audited)."""
        if self.quiet("patient"):
            return
        stamped = self.stamped()
        where = "t.PatStatus = 4" + (f" AND {stamped['where']}" if stamped else "")
        for page in self.source.pages(
            "patient", after=after, size=PAGE, where=where, params=stamped.get("params", ())
        ):
            ids = list(apply.patient_ids(row["PatNum"] for row in page).values())
            removed = access_remove_for_deleted(patient_ids=ids, actor=ACTOR)
            with transaction.atomic():
                self.count("accounts", {"access_removed": removed})
                self.commit("deleted_patients", page[-1]["PatNum"])

    def _accounts(self, after: int | None) -> None:
        # A deleted patient's access goes in _deleted_patients; rows only
        # need reading again when the table changed.
        if self.quiet("userweb"):
            # Unresolved clashes stay on the status page until resolved.
            self.clashes.extend(
                SyncPass.objects.filter(outcome=SyncPass.Outcome.OK)
                .exclude(pk=self.record.pk)
                .values_list("clashes", flat=True)
                .first()
                or []
            )
            return
        orphans = 0
        pages = self.pages(
            "userweb",
            after,
            "accounts",
            size=ACCOUNT_PAGE,
            where="t.FKeyType = 1",
            extra=", p.PatStatus AS PatStatus",
            join="LEFT JOIN patient p ON p.PatNum = t.FKey",
        )
        for page in pages:
            patients = apply.patient_ids(row["FKey"] for row in page)
            rows = []
            for row in page:
                if row["FKey"] not in patients:
                    orphans += 1
                    continue
                account = self._account(row, patients[row["FKey"]])
                if account is not None:
                    rows.append(account)
            with transaction.atomic():
                result = access_sync_opendental(rows=rows, actor=ACTOR)
                self.count(
                    "accounts",
                    {"created": result.created, "updated": result.updated, "access_removed": result.removed},
                )
                for message in result.problems:
                    self.problem(message)
                self.clashes.extend(result.clashes)
                self.commit("accounts", page[-1]["UserWebNum"])
        if orphans:
            self.problem(f"{orphans} userweb row(s) name a PatNum that is not a patient; skipped.", orphans)

    def _account(self, row: dict, patient_id: int) -> OpenDentalAccount | None:
        try:
            # A deleted patient keeps the username, without access.
            deleted = convert.number(row.get("PatStatus")) == convert.DELETED
            password = "!" if deleted else opendental_password(row["Password"])  # noqa: S105
            return OpenDentalAccount(
                patient_id=patient_id,
                pat_num=row["FKey"],
                user_web_num=row["UserWebNum"],
                username=convert.text(row["UserName"], 255),
                password=password,
                require_password_change=opendental_flag(
                    row["RequirePasswordChange"], "RequirePasswordChange"
                ),
                require_username_change=opendental_flag(
                    row["RequireUserNameChange"], "RequireUserNameChange"
                ),
                last_login=opendental_last_login(row["DateTimeLastLogin"]),
            )
        except Refused as exc:
            self.problem(f"userweb row {row['UserWebNum']} (PatNum {row['FKey']}): {exc}")
            return None

    def _events(self, after: int | None) -> None:
        """EventType 1 (OnlineAccessProvided) rows only grow; with random keys
        (or --full) they are read whole, which is cheap: one per patient."""
        if self.quiet("ehrmeasureevent"):
            return
        whole = self.plan.get("random_keys") or self.plan["full"]
        top = (
            None
            if self.plan.get("random_keys")
            else self.plan.setdefault("event_top", self.source.largest_key("ehrmeasureevent"))
        )
        start = after if after is not None or whole else max(0, self.plan.get("event_key", 0) - KEY_OVERLAP)
        orphans = 0
        for page in self.pages(
            "ehrmeasureevent", start, "events", size=PAGE, where="t.EventType = 1", until=top
        ):
            with transaction.atomic():
                done, missing = apply.events_apply(page)
                orphans += missing
                self.count("events", done)
                self.commit("events", page[-1]["EhrMeasureEventNum"])
        if top is not None:
            self.plan["event_key"] = max(self.plan.get("event_key", 0), top)
        if orphans:
            self.problem(
                f"{orphans} OnlineAccessProvided event(s) name no patient or date; skipped.", orphans
            )

    def _reconcile_patients(self, after: int | None) -> None:
        """--full: synced patients no longer in Open Dental at all are archived
        and lose portal access (Open Dental never deletes a row, but a restored
        backup or a manual cleanup can)."""
        last: int | None = after or -(2**63)
        while True:
            page = list(
                Patient.objects.filter(od_pat_num__gt=last)
                .order_by("od_pat_num")
                .values_list("od_pat_num", "id")[:PAGE]
            )
            if not page:
                return
            present = self.source.existing("patient", [num for num, _ in page if num is not None])
            missing = [pk for num, pk in page if num not in present]
            removed = access_remove_for_deleted(patient_ids=missing, actor=ACTOR)
            with transaction.atomic():
                self.count("patients", apply.patients_archive_missing(missing))
                self.count("accounts", {"access_removed": removed})
                last = page[-1][0]
                self.commit("reconcile_patients", last)

    def _reconcile_appointments(self, after: int | None) -> None:
        """--full: synced appointments no longer in Open Dental are removed."""
        last: int | None = after or -(2**63)
        while True:
            page = list(
                Appointment.objects.filter(od_apt_num__gt=last)
                .order_by("od_apt_num")
                .values_list("od_apt_num", "id")[:PAGE]
            )
            if not page:
                return
            present = self.source.existing("appointment", [num for num, _ in page if num is not None])
            with transaction.atomic():
                self.count(
                    "appointments",
                    {"removed": apply.appointments_remove([pk for num, pk in page if num not in present])},
                )
                last = page[-1][0]
                self.commit("reconcile_appointments", last)


def new_plan(
    *, full: bool, state: SyncState, server_now: datetime, update_times: dict[str, datetime | None]
) -> dict:
    """A new pass. Tables whose last commit the server dates before the last
    pass started are `quiet`: that pass read them as they are now, so a pass
    with no changes reads almost nothing. (A row stamped long before it was
    committed is the overlap window's business either way.)"""
    quiet = []
    if not full and state.since is not None:
        quiet = sorted(
            table for table, changed in update_times.items() if changed is not None and changed < state.since
        )
    return {
        "full": full,
        "since": _iso(state.since),
        "server_now": _iso(server_now),
        "hist_key": state.hist_key,
        "event_key": state.event_key,
        "phase": None,
        "after": None,
        "quiet": quiet,
    }


def finish_state(state_fields: dict, plan: dict) -> dict:
    """The status row's new values once a pass has finished."""
    now = timezone.now()
    values = {
        "since": _parse(plan["server_now"]),
        "hist_key": plan.get("hist_key", 0),
        "event_key": plan.get("event_key", 0),
        "checkpoint": {},
        "lease_owner": "",
        "lease_until": None,
    }
    if plan["full"]:
        values["last_full_at"] = now
    return {**state_fields, **values}


def lease_deadline() -> datetime:
    return timezone.now() + LEASE


def configured_url() -> str:
    return settings.OPENDENTAL_DATABASE_URL
