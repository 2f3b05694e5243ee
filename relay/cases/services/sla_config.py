"""SLA configuration (issue 4, points 1 and 2): the writes of business calendars, department calendars and
SLA policies, each checked, versioned and audited. Managers and admins only (`cases.manage_sla`).

* `calendar_create/update/delete`: working hours per weekday, a time zone, holiday presets and custom
  dates, 24/7, the default flag (making a calendar the default takes the flag from the previous one in the
  same transaction). A calendar a policy or department uses, or the default one, cannot be deleted.
* `department_calendar_set`: the calendar a department works to (None: the default calendar).
* `policy_create/update/delete/move/set_active`: conditions, targets, warning threshold, calendar, what a
  transfer does, and the escalation chain.

`clean_calendar` and `clean_policy` validate everything (collecting field errors into one
ApplicationError: `hours.0`, `custom_holidays.3`, `escalation.1.after_minutes`...), so the API and the
editors never reach the database with a bad value. The pure arithmetic (relay/cases/sla.py) has the last
word on working hours, zones and presets; the engine (relay/cases/services/sla.py) reads what is saved.

Editing a policy or calendar changes the clocks of a case the next time that case is synchronised (any
change to it) or swept; nothing here walks the open cases.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cache
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from relay.accounts.models import Department, User
from relay.cases.choices import LIVE_CLOCK_STATES, EscalationReassign, OnTransfer, Priority
from relay.cases.models import BusinessCalendar, CaseCategory, DepartmentCalendar, SlaClock, SlaPolicy
from relay.cases.services import sla
from relay.cases.services._config import (
    Errors,
    choices,
    ids,
    is_int,
    locked_with_changes,
    move,
    next_order,
    save_versioned,
    stamp,
    texts,
    unique,
)
from relay.cases.sla import (
    CalendarError,
    WorkCalendar,
    country_choices,
    holiday_names,
    parse_intervals,
    subdivision_choices,
)
from relay.core.audit import with_actor
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.services import lock_current

MAX_TARGET_MINUTES = 525_600  # one year of business time
MAX_LEVELS = 5
MAX_INTERVALS = 12  # per weekday
MAX_HOLIDAYS = 1000
MAX_HOLIDAY_NAME = 100
MIN_WEEKLY_MINUTES = 60
FIRST_YEAR, LAST_YEAR = 1970, 2199  # what previews and holiday lists cover
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_HHMM = re.compile(r"\d{1,2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _require_manager(actor: User) -> None:
    if not actor.has_perm("cases.manage_sla"):
        raise NotAllowed("Only managers and administrators configure SLA policies and calendars.")


def _text(name: str, value: Any, errors: Errors, *, max_length: int, required: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = ["A text is required."]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = [required]
    elif len(value) > max_length:
        errors[name] = [f"At most {max_length} characters."]
    elif "\x00" in value:
        errors[name] = ["Null characters are not allowed."]
    return value


def _flag(name: str, value: Any, errors: Errors) -> bool:
    if not isinstance(value, bool):
        errors[name] = ["true or false is required."]
        return False
    return value


def _order(value: Any, errors: Errors) -> None:
    if value is not None and not (is_int(value) and 0 <= value < 2**31):
        errors["order"] = ["A whole number from 0 is required."]


# --- calendars: input and validation ---------------------------------------------------------------------


@dataclass
class CalendarInput:
    """A calendar as the editors and the API submit it.

    `hours`: weekday ("0" = Monday .. "6" = Sunday) -> [["09:00", "12:00"], ["13:00", "17:00"]]; a missing
    weekday is closed. `custom_holidays`: [{"date": "2026-12-24", "name": "Christmas Eve"}] (a `date`
    object is accepted for the date)."""

    name: str
    description: str = ""
    time_zone: str = "UTC"
    always_open: bool = False
    hours: Any = field(default_factory=dict)
    holiday_country: str = ""
    holiday_subdivision: str = ""
    custom_holidays: Any = field(default_factory=list)
    is_default: bool = False

    @classmethod
    def of(cls, row: BusinessCalendar) -> CalendarInput:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


CALENDAR_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CalendarInput))


@cache
def time_zones() -> frozenset[str]:
    """The zone names the editors offer and the services accept (the system's tz database)."""
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})


@cache
def _countries() -> dict[str, str]:
    return dict(country_choices())


def _clean_hours(value: Any, errors: Errors) -> dict[str, list[list[str]]]:
    """Every weekday's intervals, normalised to "HH:MM" pairs in order (closed days: [])."""
    week: dict[str, list[list[str]]] = {str(day): [] for day in range(7)}
    if value is None:
        return week
    if not isinstance(value, dict):
        errors["hours"] = ['An object of weekdays ("0" = Monday .. "6" = Sunday) is required.']
        return week
    for key, intervals in value.items():
        day = str(key).strip()
        if day not in week or (not isinstance(key, str) and not is_int(key)):
            errors["hours"] = ['Weekdays are "0" (Monday) to "6" (Sunday).']
            continue
        where = f"hours.{day}"
        label = WEEKDAYS[int(day)]
        if not isinstance(intervals, list | tuple):
            errors[where] = [f"{label}: a list of [start, end] pairs is required."]
            continue
        if len(intervals) > MAX_INTERVALS:
            errors[where] = [f"{label}: at most {MAX_INTERVALS} intervals."]
            continue
        pieces = []
        for pair in intervals:
            if (
                not isinstance(pair, list | tuple)
                or len(pair) != 2
                or not all(isinstance(t, str) and _HHMM.fullmatch(t.strip()) for t in pair)
            ):
                errors[where] = [f'{label}: each interval is a pair of times such as ["09:00", "17:00"].']
                break
            pieces.append(f"{pair[0].strip()}-{pair[1].strip()}")
        else:
            try:
                parsed = parse_intervals(", ".join(pieces))
            except CalendarError as exc:
                errors[where] = [f"{label}: {exc}"]
                continue
            week[day] = [[_hhmm(start, end=False), _hhmm(end, end=True)] for start, end in parsed]
    return week


def weekly_minutes(hours: dict[str, list[list[str]]]) -> int:
    """Working minutes in a week of normalised hours."""

    def minutes(text: str) -> int:
        hh, mm = text.split(":")
        return int(hh) * 60 + int(mm)

    return sum(minutes(end) - minutes(start) for day in hours.values() for start, end in day)


def _hhmm(value: Any, *, end: bool) -> str:
    if end and value.hour == value.minute == 0:
        return "24:00"
    return f"{value.hour:02d}:{value.minute:02d}"


def _clean_holidays(value: Any, errors: Errors) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        errors["custom_holidays"] = ['A list of {"date": "YYYY-MM-DD", "name": "..."} is required.']
        return []
    if len(value) > MAX_HOLIDAYS:
        errors["custom_holidays"] = [f"At most {MAX_HOLIDAYS} custom holidays."]
        return []
    seen: dict[date, int] = {}
    cleaned: list[tuple[date, str]] = []
    for index, item in enumerate(value):
        where = f"custom_holidays.{index}"
        if not isinstance(item, dict) or set(item) - {"date", "name"}:
            errors[where] = ['A holiday is {"date": "YYYY-MM-DD", "name": "..."}.']
            continue
        raw, name = item.get("date"), item.get("name")
        day: date | None = None
        if isinstance(raw, date):
            day = raw
        elif isinstance(raw, str) and _ISO_DATE.fullmatch(raw.strip()):
            try:
                day = date.fromisoformat(raw.strip())
            except ValueError:
                day = None
        if day is None:
            errors[where] = [f"“{str(raw)[:20]}” is not a date: write it as YYYY-MM-DD."]
            continue
        if not isinstance(name, str) or not name.strip():
            errors[where] = [f"{day.isoformat()}: give the holiday a name."]
            continue
        name = name.strip()
        if len(name) > MAX_HOLIDAY_NAME or "\x00" in name:
            errors[where] = [f"{day.isoformat()}: a name has at most {MAX_HOLIDAY_NAME} characters."]
            continue
        if day in seen:
            errors[where] = [f"{day.isoformat()} is listed twice."]
            continue
        seen[day] = index
        cleaned.append((day, name))
    return [{"date": day.isoformat(), "name": name} for day, name in sorted(cleaned)]


def clean_calendar(data: CalendarInput, *, calendar: BusinessCalendar | None = None) -> dict[str, Any]:
    """The calendar's column values, validated and normalised; an ApplicationError lists every field error."""
    errors: Errors = {}
    name = _text("name", data.name, errors, max_length=100, required="A calendar needs a name.")
    if "name" not in errors:
        others = BusinessCalendar.objects.filter(name__iexact=name).exclude(pk=calendar.pk if calendar else 0)
        if others.exists():
            errors["name"] = ["Another calendar already has this name."]
    description = _text("description", data.description, errors, max_length=2000)
    zone = _text("time_zone", data.time_zone, errors, max_length=64, required="Choose a time zone.")
    if "time_zone" not in errors and zone not in time_zones():
        errors["time_zone"] = [f"“{zone[:64]}” is not a known time zone (e.g. Europe/Berlin)."]
    always_open = _flag("always_open", data.always_open, errors)
    is_default = _flag("is_default", data.is_default, errors)
    hours = _clean_hours(data.hours, errors)
    if not always_open and not any(k.startswith("hours") for k in errors):
        if not any(hours.values()):
            errors["hours"] = ["Give some working hours, or make the calendar 24/7."]
        elif weekly_minutes(hours) < MIN_WEEKLY_MINUTES:
            # so that the longest target (a year of minutes) falls due within two centuries
            errors["hours"] = ["Give at least one hour of working time a week."]
    country = _text("holiday_country", data.holiday_country, errors, max_length=8).upper()
    if country and "holiday_country" not in errors and country not in _countries():
        errors["holiday_country"] = [f"“{country}” is not a country with holiday presets."]
    subdivision = _text("holiday_subdivision", data.holiday_subdivision, errors, max_length=16)
    if subdivision and "holiday_subdivision" not in errors:
        if not country:
            errors["holiday_subdivision"] = ["Choose the country of the region first."]
        elif "holiday_country" not in errors:
            known = {s.casefold(): s for s in subdivision_choices(country)}
            if subdivision.casefold() not in known:
                errors["holiday_subdivision"] = [
                    f"“{subdivision}” is not a region of {country} with presets."
                ]
            else:
                subdivision = known[subdivision.casefold()]
    custom = _clean_holidays(data.custom_holidays, errors)
    if not errors:  # the arithmetic's own verdict on the whole (it is what the clocks will use)
        try:
            WorkCalendar(
                zone=zone,
                week={
                    int(day): parse_intervals(", ".join(f"{s}-{e}" for s, e in iv))
                    for day, iv in hours.items()
                },
                holidays=[date.fromisoformat(h["date"]) for h in custom],
                country=country,
                subdivision=subdivision,
                always_open=always_open,
            )
        except CalendarError as exc:
            errors["hours"] = [str(exc)]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    return {
        "name": name,
        "description": description,
        "time_zone": zone,
        "always_open": always_open,
        "hours": hours,
        "holiday_country": country,
        "holiday_subdivision": subdivision,
        "custom_holidays": custom,
        "is_default": is_default,
    }


def _save_calendar(row: BusinessCalendar, actor: User) -> BusinessCalendar:
    stamp(row)
    if row.is_default:  # the flag moves: the previous default loses it (locked, versioned, audited)
        for previous in (
            BusinessCalendar.objects.select_for_update().filter(is_default=True).exclude(pk=row.pk)
        ):
            previous.is_default = False
            previous.version += 1
            previous.updated_at = row.updated_at
            with_actor(previous, actor).save()
    with_actor(row, actor)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:  # a concurrent write took the name or the default first
        if BusinessCalendar.objects.filter(name=row.name).exclude(pk=row.pk or 0).exists():
            message, where = "Another calendar already has this name.", "name"
        else:
            message, where = "Another calendar became the default meanwhile; try again.", "is_default"
        raise ApplicationError(message, errors={where: [message]}) from exc
    return row


def holidays_in(row: BusinessCalendar, year: int) -> list[tuple[date, str, bool]]:
    """The days a (saved or unsaved, valid) calendar is closed in a year: (date, name, custom), by date. The
    presets are named in English where the holidays package can; a 24/7 calendar has none."""
    custom = {date.fromisoformat(h["date"]): h["name"] for h in row.custom_holidays or []}
    week = {
        int(day): parse_intervals(", ".join(f"{s}-{e}" for s, e in intervals))
        for day, intervals in (row.hours or {}).items()
    }
    built = WorkCalendar(
        zone=row.time_zone,
        week=week,
        holidays=custom,
        country=row.holiday_country,
        subdivision=row.holiday_subdivision,
        always_open=row.always_open,
    )
    return [(day, name, day in custom) for day, name in holiday_names(built, year)]


# --- calendars: writes -----------------------------------------------------------------------------------


@transaction.atomic
def calendar_create(*, actor: User, data: CalendarInput) -> BusinessCalendar:
    _require_manager(actor)
    return _save_calendar(BusinessCalendar(**clean_calendar(data)), actor)


@transaction.atomic
def calendar_update(
    *, actor: User, calendar: BusinessCalendar, expected_version: int | None, changes: dict[str, Any]
) -> BusinessCalendar:
    """Change some of the calendar's fields (names as in `CalendarInput`); a stale version changes nothing."""
    _require_manager(actor)
    locked, data = locked_with_changes(
        BusinessCalendar,
        CalendarInput,
        calendar.pk,
        expected_version=expected_version,
        changes=changes,
        noun="calendar",
    )
    defaults = list(BusinessCalendar.objects.filter(is_default=True).values_list("pk", flat=True))
    for key, value in clean_calendar(data, calendar=locked).items():
        setattr(locked, key, value)
    saved = _save_calendar(locked, actor)
    # clocks on it follow its new hours; when the default moves, the clocks on the old default too
    sla.replan_later(calendar_ids=[saved.pk, *(defaults if saved.is_default else [])])
    return saved


def calendar_users(calendar: BusinessCalendar) -> tuple[list[str], list[str]]:
    """The names of the policies and the departments that use the calendar."""
    policies = list(
        SlaPolicy.objects.filter(calendar=calendar).order_by("order", "id").values_list("name", flat=True)
    )
    departments = list(
        Department.objects.filter(sla_calendar__calendar=calendar)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return policies, departments


@transaction.atomic
def calendar_delete(*, actor: User, calendar: BusinessCalendar, expected_version: int | None) -> None:
    """Delete a calendar nothing uses (its history stays). Clocks that ran on it count 24/7 until their case
    is next synchronised onto its new calendar."""
    _require_manager(actor)
    locked = lock_current(BusinessCalendar, calendar.pk, expected_version)
    policies, departments = calendar_users(locked)
    reasons = []
    if policies:
        reasons.append(f"the polic{'ies' if len(policies) > 1 else 'y'} {', '.join(policies)}")
    if departments:
        reasons.append(f"the department{'s' if len(departments) > 1 else ''} {', '.join(departments)}")
    if reasons:
        raise ApplicationError(
            f"“{locked.name}” is used by {' and '.join(reasons)}: give them another calendar first.",
            status=409,
        )
    if locked.is_default:
        raise ApplicationError(
            f"“{locked.name}” is the default calendar: make another calendar the default (or untick "
            "“default” on this one) first.",
            status=409,
        )
    with_actor(locked, actor)
    locked.delete()


@transaction.atomic
def department_calendar_set(
    *, actor: User, department: Department, calendar: BusinessCalendar | None
) -> DepartmentCalendar | None:
    """The calendar the department works to; None: none of its own (the default calendar applies)."""
    _require_manager(actor)
    if calendar is not None:
        # locked, so that a concurrent delete of the calendar waits for this (or this fails cleanly)
        found = BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
        if found is None:
            raise ApplicationError("No such calendar.", errors={"calendar": ["No such calendar."]})
        calendar = found
    current = DepartmentCalendar.objects.select_for_update().filter(department=department).first()
    if calendar is None:
        if current is not None:
            with_actor(current, actor).delete()
            sla.replan_later(department_ids=[department.pk])
        return None
    if current is None:
        current = DepartmentCalendar(department=department, calendar=calendar)
        try:
            with transaction.atomic():
                with_actor(current, actor).save(force_insert=True)
        except IntegrityError:  # set meanwhile by a concurrent request: change that one
            current = DepartmentCalendar.objects.select_for_update().get(department=department)
    if current.calendar_id != calendar.pk:
        current.calendar = calendar
        with_actor(current, actor).save()
        sla.replan_later(department_ids=[department.pk])
    return current


# --- policies: input and validation ----------------------------------------------------------------------


@dataclass
class PolicyInput:
    """A policy as the editors and the API submit it. Condition lists are alternatives; empty lists do not
    constrain. Targets are business minutes (None: no clock for that target). `escalation` is a list of
    {"after_minutes", "raise_priority", "reassign", "department"} (see SlaPolicy)."""

    name: str
    description: str = ""
    is_active: bool = True
    order: int | None = None
    priorities: list[str] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    acknowledge_minutes: int | None = None
    resolve_minutes: int | None = None
    update_minutes: int | None = None
    warn_percent: int = 80
    calendar: BusinessCalendar | None = None
    on_transfer: str = OnTransfer.KEEP
    escalation: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, policy: SlaPolicy) -> PolicyInput:
        return cls(**{f.name: getattr(policy, f.name) for f in fields(cls)})


POLICY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PolicyInput))
TARGET_FIELDS: tuple[str, ...] = ("acknowledge_minutes", "resolve_minutes", "update_minutes")
_LEVEL_KEYS = frozenset({"after_minutes", "raise_priority", "reassign", "department"})


def _minutes(name: str, value: Any, errors: Errors, *, allow_zero: bool = False) -> int | None:
    low = 0 if allow_zero else 1
    if value is None:
        return None
    if not is_int(value) or not low <= value <= MAX_TARGET_MINUTES:
        errors[name] = [
            f"A whole number of minutes from {low} to {MAX_TARGET_MINUTES:,} (one year), or empty."
        ]
        return None
    return int(value)


def _clean_escalation(value: Any, errors: Errors) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        errors["escalation"] = ["A list of escalation levels is required."]
        return []
    if len(value) > MAX_LEVELS:
        errors["escalation"] = [f"At most {MAX_LEVELS} escalation levels."]
        return []
    levels: list[dict[str, Any]] = []
    department_ids: dict[int, int] = {}
    previous = -1
    for index, item in enumerate(value):
        where = f"escalation.{index}"
        if not isinstance(item, dict) or set(item) - _LEVEL_KEYS:
            errors[where] = ["A level is {after_minutes, raise_priority, reassign, department}."]
            continue
        after = _minutes(f"{where}.after_minutes", item.get("after_minutes", 0), errors, allow_zero=True)
        if after is None and f"{where}.after_minutes" not in errors:
            after = 0
        if after is not None:
            if index == 0 and after != 0:
                errors[f"{where}.after_minutes"] = ["Level 1 applies at the breach: its delay is 0."]
            elif index > 0 and after <= previous:
                errors[f"{where}.after_minutes"] = [
                    f"Level {index + 1} must come later than level {index} (more minutes after the due time)."
                ]
            previous = max(previous, after)
        raise_priority = item.get("raise_priority", False)
        if not isinstance(raise_priority, bool):
            errors[f"{where}.raise_priority"] = ["true or false is required."]
        reassign = item.get("reassign") or ""
        if reassign not in EscalationReassign.values:
            errors[f"{where}.reassign"] = [
                f"Choose one of: {', '.join(v or '(empty)' for v in EscalationReassign.values)}."
            ]
        department = item.get("department")
        if reassign == EscalationReassign.DEPARTMENT:
            if department is None:
                errors[f"{where}.department"] = ["Choose the department the case is transferred to."]
            elif not is_int(department) or not 0 < department < 2**63:
                errors[f"{where}.department"] = ["A department id is required."]
            else:
                department_ids[index] = department
        else:
            department = None
        levels.append(
            {
                "after_minutes": after or 0,
                "raise_priority": raise_priority is True,
                "reassign": reassign if isinstance(reassign, str) else "",
                "department": department,
            }
        )
    if department_ids:
        active = dict(
            Department.objects.filter(pk__in=department_ids.values()).values_list("pk", "is_active")
        )
        for index, pk in department_ids.items():
            if pk not in active:
                errors[f"escalation.{index}.department"] = [f"Unknown department: {pk}."]
            elif not active[pk]:
                errors[f"escalation.{index}.department"] = ["This department is no longer active."]
    return levels


def clean_policy(data: PolicyInput, *, policy: SlaPolicy | None = None) -> dict[str, Any]:
    """The policy's column values, validated and normalised; an ApplicationError lists every field error."""
    errors: Errors = {}
    name = _text("name", data.name, errors, max_length=100, required="A policy needs a name.")
    if "name" not in errors:
        others = SlaPolicy.objects.filter(name__iexact=name).exclude(pk=policy.pk if policy else 0)
        if others.exists():
            errors["name"] = ["Another policy already has this name."]
    description = _text("description", data.description, errors, max_length=2000)
    is_active = _flag("is_active", data.is_active, errors)
    _order(data.order, errors)
    tiers = [slugify(t) for t in texts("tiers", data.tiers, errors)]
    if "tiers" not in errors and not all(tiers):
        errors["tiers"] = ["Use letters or digits in tier names."]
    targets = {name: _minutes(name, getattr(data, name), errors) for name in TARGET_FIELDS}
    if not any(k in errors for k in TARGET_FIELDS) and all(v is None for v in targets.values()):
        errors["acknowledge_minutes"] = ["Set at least one target (first response, resolution or update)."]
    warn = data.warn_percent
    if not is_int(warn) or not 1 <= warn <= 99:
        errors["warn_percent"] = ["A whole percentage from 1 to 99."]
    calendar = data.calendar
    if calendar is not None and (
        not isinstance(calendar, BusinessCalendar)
        or not BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    ):
        errors["calendar"] = ["No such calendar."]
    if data.on_transfer not in OnTransfer.values:
        errors["on_transfer"] = [f"Choose one of: {', '.join(OnTransfer.values)}."]
    values: dict[str, Any] = {
        "name": name,
        "description": description,
        "is_active": is_active,
        "priorities": choices("priorities", data.priorities, list(Priority.values), errors),
        "categories": ids("categories", data.categories, CaseCategory, errors),
        "departments": ids("departments", data.departments, Department, errors),
        "channels": choices("channels", data.channels, list(Channel.values), errors),
        "tiers": unique(tiers),
        **targets,
        "warn_percent": warn,
        "calendar": calendar,
        "on_transfer": data.on_transfer,
        "escalation": _clean_escalation(data.escalation, errors),
    }
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    if data.order is not None:
        values["order"] = data.order
    return values


def _save_policy(policy: SlaPolicy, actor: User) -> SlaPolicy:
    # the calendar is locked: a concurrent delete of it waits for this write (or this one fails cleanly)
    calendar_id = policy.calendar_id
    if (
        calendar_id is not None
        and not BusinessCalendar.objects.select_for_update().filter(pk=calendar_id).exists()
    ):
        raise ApplicationError("No such calendar.", errors={"calendar": ["No such calendar."]})
    return save_versioned(policy, actor, name_taken="Another policy already has this name.")


# --- policies: writes ------------------------------------------------------------------------------------


@transaction.atomic
def policy_create(*, actor: User, data: PolicyInput) -> SlaPolicy:
    """A new policy, tried after the existing ones unless `order` says otherwise."""
    _require_manager(actor)
    values = clean_policy(data)
    if "order" not in values:
        values["order"] = next_order(SlaPolicy)
    return _save_policy(SlaPolicy(**values), actor)


@transaction.atomic
def policy_update(
    *, actor: User, policy: SlaPolicy, expected_version: int | None, changes: dict[str, Any]
) -> SlaPolicy:
    """Change some of the policy's fields (names as in `PolicyInput`); a stale version changes nothing."""
    _require_manager(actor)
    locked, data = locked_with_changes(
        SlaPolicy, PolicyInput, policy.pk, expected_version=expected_version, changes=changes, noun="policy"
    )
    for key, value in clean_policy(data, policy=locked).items():
        setattr(locked, key, value)
    sla.replan_later(policy_ids=[locked.pk])  # its cases get its new targets (or re-match)
    return _save_policy(locked, actor)


@transaction.atomic
def policy_set_active(
    *, actor: User, policy: SlaPolicy, active: bool, expected_version: int | None
) -> SlaPolicy:
    _require_manager(actor)
    locked = lock_current(SlaPolicy, policy.pk, expected_version)
    if locked.is_active == active:
        return locked
    locked.is_active = active
    if not active:
        sla.replan_later(policy_ids=[locked.pk])  # its cases re-match the remaining policies
    return _save_policy(locked, actor)


@transaction.atomic
def policy_delete(*, actor: User, policy: SlaPolicy, expected_version: int | None) -> None:
    """Delete a policy (its history stays). Clocks it set keep their targets until their case is next
    synchronised, when the next matching policy (or none) applies."""
    _require_manager(actor)
    locked = lock_current(SlaPolicy, policy.pk, expected_version)
    clocked = list(
        SlaClock.objects.filter(policy=locked, state__in=list(LIVE_CLOCK_STATES))
        .values_list("case__department_id", flat=True)
        .distinct()
    )
    with_actor(locked, actor)
    locked.delete()
    sla.replan_later(department_ids=clocked)  # its clocks lost their policy: their cases re-match


@transaction.atomic
def policy_move(*, actor: User, policy: SlaPolicy, direction: str) -> SlaPolicy:
    """Swap the policy with its neighbour above ("up") or below ("down"), then number the policies evenly.
    Every policy is locked first (configuration: tens of rows), so two moves at once apply one by one."""
    _require_manager(actor)
    return move(SlaPolicy, policy.pk, direction, lambda row: _save_policy(row, actor), noun="policy")


__all__ = [
    "CALENDAR_FIELDS",
    "MAX_LEVELS",
    "MAX_TARGET_MINUTES",
    "POLICY_FIELDS",
    "WEEKDAYS",
    "CalendarInput",
    "PolicyInput",
    "calendar_create",
    "calendar_delete",
    "calendar_update",
    "calendar_users",
    "clean_calendar",
    "clean_policy",
    "department_calendar_set",
    "holidays_in",
    "policy_create",
    "policy_delete",
    "policy_move",
    "policy_set_active",
    "policy_update",
    "time_zones",
]
