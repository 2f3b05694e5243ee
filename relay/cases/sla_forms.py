"""Forms of the SLA editors: a policy (targets in minutes or hours, escalation rows), a business calendar
(a text line of intervals per weekday, custom holidays one per line), a department's calendar, and the
previews' own inputs. The services validate what the forms pass on (relay/cases/services/sla_config.py);
the forms only turn what people type into those values, and say which line or row is wrong."""

from __future__ import annotations

import contextlib
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse

from relay.accounts.models import Department
from relay.cases.choices import EscalationReassign, OnTransfer, Priority
from relay.cases.models import BusinessCalendar, CaseCategory, SlaPolicy
from relay.cases.routing_forms import split_values
from relay.cases.services.sla_config import (
    MAX_LEVELS,
    WEEKDAYS,
    CalendarInput,
    PolicyInput,
    time_zones,
)
from relay.cases.sla import CalendarError, country_choices, subdivision_choices
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm

UNITS = [("minutes", "minutes"), ("hours", "hours")]
_FACTOR = {"minutes": 1, "hours": 60}
_PIECE = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*")
_HOLIDAY_LINE = re.compile(r"\s*(\S+)\s*(.*)")
TARGETS = (
    ("acknowledge", "First response"),
    ("resolve", "Resolution"),
    ("update", "Update to the customer"),
)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
REASSIGN_CHOICES = [
    (EscalationReassign.NONE, "Leave the assignee"),
    (EscalationReassign.SUPERVISOR, "To the supervisor"),
    (EscalationReassign.DEPARTMENT, "To the escalation department"),
]


class _CategoryChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name} / {obj.name}" if obj.parent_id else obj.name


def _textarea(rows: int, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def _amount(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0.0001"),
        max_digits=12,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )


def _unit() -> forms.ChoiceField:
    return forms.ChoiceField(choices=UNITS, initial="hours", required=False, label="Unit")


def amount_and_unit(minutes: int | None) -> tuple[Any, str]:
    """How a number of minutes is shown: whole hours in hours, anything else in minutes."""
    if minutes is None:
        return None, "hours"
    if minutes % 60 == 0:
        return minutes // 60, "hours"
    return minutes, "minutes"


# --- policies --------------------------------------------------------------------------------------------


class PolicyForm(BootstrapForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        max_length=2000,
        required=False,
        widget=_textarea(2),
        help_text="Why the policy exists (for colleagues)",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    # conditions
    priorities = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    categories = _CategoryChoice(
        queryset=CaseCategory.objects.none(),
        required=False,
        help_text="Each includes the categories below it",
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), required=False, help_text="The department handling the case"
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.CharField(
        required=False,
        help_text="Tier names, comma-separated: the tier “gold” is the customer's tag tier-gold",
    )
    # targets
    acknowledge = _amount("First response within")
    acknowledge_unit = _unit()
    resolve = _amount("Resolution within")
    resolve_unit = _unit()
    update = _amount("Update the customer at least every")
    update_unit = _unit()
    warn_percent = forms.IntegerField(
        min_value=1,
        max_value=99,
        initial=80,
        label="Warn at (% of the target used)",
        help_text="The handler is told the case is at risk when this share of a target is used",
    )
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.none(),
        required=False,
        empty_label="The department's calendar (else the default one)",
        help_text="Targets count business time on this calendar",
    )
    on_transfer = forms.ChoiceField(
        choices=OnTransfer.choices,
        initial=OnTransfer.KEEP,
        widget=forms.RadioSelect,
        label="When transferred",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    CONDITIONS = ("priorities", "categories", "departments", "channels", "tiers")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for level in range(1, MAX_LEVELS + 1):
            self._add_level_fields(level)
        fields: Any = self.fields
        fields["categories"].queryset = CaseCategory.objects.select_related("parent").filter(is_active=True)
        fields["departments"].queryset = Department.objects.filter(is_active=True)
        fields["calendar"].queryset = BusinessCalendar.objects.all()
        for name in ("categories", "departments"):
            fields[name].widget.attrs["size"] = 5
        for level in range(1, MAX_LEVELS + 1):
            fields[f"esc{level}_department"].queryset = Department.objects.filter(is_active=True)

    def _add_level_fields(self, level: int) -> None:
        on = forms.BooleanField(required=False, label=f"Level {level}")
        raise_priority = forms.BooleanField(required=False, label="Raise the priority one step")
        reassign = forms.ChoiceField(choices=REASSIGN_CHOICES, required=False, label="Then")
        department = forms.ModelChoiceField(
            queryset=Department.objects.none(),
            required=False,
            empty_label="Escalation department…",
            label="To",
        )
        new: dict[str, forms.Field] = {f"esc{level}_on": on, f"esc{level}_raise": raise_priority}
        if level > 1:
            new[f"esc{level}_after"] = _amount("After the due time, plus")
            new[f"esc{level}_after_unit"] = _unit()
        new[f"esc{level}_reassign"] = reassign
        new[f"esc{level}_department"] = department
        for name, field in new.items():
            self.fields[name] = field
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    # --- what the template shows -----------------------------------------------------------------------

    def target_rows(self) -> list[dict[str, Any]]:
        return [
            {"label": label, "amount": self[name], "unit": self[f"{name}_unit"]} for name, label in TARGETS
        ]

    def escalation_rows(self) -> list[dict[str, Any]]:
        rows = []
        for level in range(1, MAX_LEVELS + 1):
            rows.append(
                {
                    "level": level,
                    "on": self[f"esc{level}_on"],
                    "after": self[f"esc{level}_after"] if level > 1 else None,
                    "after_unit": self[f"esc{level}_after_unit"] if level > 1 else None,
                    "raise": self[f"esc{level}_raise"],
                    "reassign": self[f"esc{level}_reassign"],
                    "department": self[f"esc{level}_department"],
                    "errors": [e for name in self._level_names(level) for e in self[name].errors],
                }
            )
        return rows

    def _level_names(self, level: int) -> list[str]:
        names = [f"esc{level}_on", f"esc{level}_raise", f"esc{level}_reassign", f"esc{level}_department"]
        return names + ([f"esc{level}_after"] if level > 1 else [])

    # --- to and from the services ----------------------------------------------------------------------

    def _minutes(self, name: str) -> int | None:
        """The amount in minutes (None when empty); an amount that is no whole minute is a field error."""
        d = self.cleaned_data
        amount = d.get(name)
        if amount is None:
            return None
        minutes = amount * _FACTOR.get(d.get(f"{name}_unit") or "hours", 60)
        if minutes != minutes.to_integral_value():
            self.add_error(name, "Use whole minutes (for example 1.5 hours, not 1.33).")
            return None
        return int(minutes)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._targets = {name: self._minutes(name) for name, _ in TARGETS}
        levels: list[dict[str, Any]] = []
        gap = False
        for level in range(1, MAX_LEVELS + 1):
            if not cleaned.get(f"esc{level}_on"):
                gap = True
                continue
            if gap:
                self.add_error(f"esc{level}_on", f"Turn on the levels before level {level} first.")
                continue
            after = self._minutes(f"esc{level}_after") if level > 1 else 0
            if level > 1 and after is None and f"esc{level}_after" not in self.errors:
                self.add_error(f"esc{level}_after", "Say how long after the due time this level applies.")
            department = cleaned.get(f"esc{level}_department")
            levels.append(
                {
                    "after_minutes": after or 0,
                    "raise_priority": bool(cleaned.get(f"esc{level}_raise")),
                    "reassign": cleaned.get(f"esc{level}_reassign") or "",
                    "department": department.pk if department is not None else None,
                }
            )
        self._levels = levels
        return cleaned

    def to_input(self) -> PolicyInput:
        """The policy as the services take it (from what validated so far, for previews and inline checks)."""
        d = self.cleaned_data
        targets = getattr(self, "_targets", {})
        return PolicyInput(
            name=d.get("name") or "",
            description=d.get("description") or "",
            is_active=bool(d.get("is_active")),
            priorities=list(d.get("priorities") or []),
            categories=[o.pk for o in d.get("categories") or []],
            departments=[o.pk for o in d.get("departments") or []],
            channels=list(d.get("channels") or []),
            tiers=split_values(d.get("tiers") or ""),
            acknowledge_minutes=targets.get("acknowledge"),
            resolve_minutes=targets.get("resolve"),
            update_minutes=targets.get("update"),
            warn_percent=int(d["warn_percent"]) if d.get("warn_percent") is not None else 80,
            calendar=d.get("calendar"),
            on_transfer=d.get("on_transfer") or OnTransfer.KEEP,
            escalation=list(getattr(self, "_levels", [])),
        )

    @classmethod
    def initial_of(cls, policy: SlaPolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name,
            "description": policy.description,
            "is_active": policy.is_active,
            "priorities": policy.priorities,
            "categories": policy.categories,
            "departments": policy.departments,
            "channels": policy.channels,
            "tiers": ", ".join(policy.tiers),
            "warn_percent": policy.warn_percent,
            "calendar": policy.calendar_id,
            "on_transfer": policy.on_transfer,
            "version": policy.version,
        }
        for name, _ in TARGETS:
            initial[name], initial[f"{name}_unit"] = amount_and_unit(getattr(policy, f"{name}_minutes"))
        for index, step in enumerate(policy.escalation or [], start=1):
            initial[f"esc{index}_on"] = True
            initial[f"esc{index}_raise"] = bool(step.get("raise_priority"))
            initial[f"esc{index}_reassign"] = step.get("reassign") or ""
            initial[f"esc{index}_department"] = step.get("department")
            if index > 1:
                initial[f"esc{index}_after"], initial[f"esc{index}_after_unit"] = amount_and_unit(
                    int(step.get("after_minutes") or 0)
                )
        return initial

    @staticmethod
    def field_for(key: str) -> str | None:
        """The form field that shows a service error (`escalation.1.after_minutes` -> esc2_after)."""
        parts = key.split(".")
        if parts[0] in {"acknowledge_minutes", "resolve_minutes", "update_minutes"}:
            return parts[0].removesuffix("_minutes")
        if parts[0] == "escalation" and len(parts) > 1 and parts[1].isdigit():
            level = int(parts[1]) + 1
            sub = parts[2] if len(parts) > 2 else ""
            return {
                "after_minutes": f"esc{level}_after" if level > 1 else f"esc{level}_on",
                "raise_priority": f"esc{level}_raise",
                "reassign": f"esc{level}_reassign",
                "department": f"esc{level}_department",
            }.get(sub, f"esc{level}_on")
        if parts[0] == "escalation":
            return "esc1_on"
        return parts[0]


# --- calendars -------------------------------------------------------------------------------------------


def zone_choices() -> list[tuple[str, str]]:
    return [(z, z.replace("_", " ")) for z in sorted(time_zones())]


def subdivision_options(country: str) -> list[tuple[str, str]]:
    options = [("", "The whole country")]
    if country:
        with contextlib.suppress(CalendarError):
            options += [(s, s) for s in subdivision_choices(country)]
    return options


class CalendarForm(BootstrapForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=2000, required=False, widget=_textarea(2))
    time_zone = forms.ChoiceField(
        choices=(), initial="UTC", help_text="Working hours are local times in this zone"
    )
    always_open = forms.BooleanField(
        required=False, label="Open 24/7 (every hour counts; holidays are ignored)"
    )
    holiday_country = forms.ChoiceField(choices=(), required=False, label="Public holidays of")
    holiday_subdivision = forms.ChoiceField(choices=(), required=False, label="Region")
    custom_holidays = forms.CharField(
        required=False,
        strip=False,  # the line numbers of the errors count every line
        label="Own holidays",
        widget=_textarea(4, placeholder="2026-12-24 Christmas Eve\n2026-12-31 New Year's Eve"),
        help_text="One per line: the date (YYYY-MM-DD), then its name",
    )
    is_default = forms.BooleanField(
        required=False,
        label="The default calendar",
        help_text="Used where neither policy nor department names one (replaces the previous default)",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    DAYS = tuple(f"day_{n}" for n in range(7))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n, label in enumerate(WEEKDAYS):
            field = forms.CharField(
                required=False,
                label=label,
                max_length=400,
                widget=forms.TextInput(attrs={"placeholder": "closed", "class": "form-control"}),
            )
            self.fields[f"day_{n}"] = field
        fields: Any = self.fields
        fields["time_zone"].choices = zone_choices()
        fields["holiday_country"].choices = [("", "No public holidays"), *country_choices()]
        source = self.data if self.is_bound else self.initial
        country = str(source.get("holiday_country") or "").strip().upper()
        fields["holiday_subdivision"].choices = subdivision_options(country)
        fields["holiday_country"].widget.attrs.update(
            {
                "hx-get": reverse("sla:subdivisions"),
                "hx-trigger": "change",
                "hx-target": "#field-holiday_subdivision",
                "hx-select": "#field-holiday_subdivision",  # not the wrapper's (inherited) inline check
                "hx-params": "holiday_country",
                "hx-swap": "outerHTML",
            }
        )
        self.holiday_lines: list[int] = []

    def day_fields(self) -> list[Any]:
        return [self[name] for name in self.DAYS]

    def _clean_day(self, name: str) -> list[list[str]]:
        text = self.cleaned_data.get(name) or ""
        pairs = []
        for piece in text.split(","):
            if not piece.strip():
                continue
            found = _PIECE.fullmatch(piece)
            if found is None:
                raise forms.ValidationError(
                    f"“{piece.strip()[:40]}” is not an interval: write it as HH:MM-HH:MM, e.g. 09:00-17:00."
                )
            pairs.append([found.group(1), found.group(2)])
        return pairs

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._hours: dict[str, list[list[str]]] = {}
        for n, name in enumerate(self.DAYS):
            try:
                self._hours[str(n)] = self._clean_day(name)
            except forms.ValidationError as error:
                self.add_error(name, error)
        self._holidays: list[dict[str, str]] = []
        self.holiday_lines = []
        problems = []
        for number, line in enumerate((cleaned.get("custom_holidays") or "").splitlines(), start=1):
            if not line.strip():
                continue
            found = _HOLIDAY_LINE.fullmatch(line)
            assert found is not None
            day, name = found.group(1), found.group(2).strip().lstrip("-\u2013\u2014:").strip()
            if not name:
                problems.append(f"Line {number}: give the holiday a name after the date.")
                continue
            self._holidays.append({"date": day, "name": name})
            self.holiday_lines.append(number)
        if problems:
            self.add_error("custom_holidays", problems)
        return cleaned

    def to_input(self) -> CalendarInput:
        d = self.cleaned_data
        return CalendarInput(
            name=d.get("name") or "",
            description=d.get("description") or "",
            time_zone=d.get("time_zone") or "UTC",
            always_open=bool(d.get("always_open")),
            hours=dict(getattr(self, "_hours", {})),
            holiday_country=d.get("holiday_country") or "",
            holiday_subdivision=d.get("holiday_subdivision") or "",
            custom_holidays=list(getattr(self, "_holidays", [])),
            is_default=bool(d.get("is_default")),
        )

    @classmethod
    def initial_of(cls, row: BusinessCalendar) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": row.name,
            "description": row.description,
            "time_zone": row.time_zone,
            "always_open": row.always_open,
            "holiday_country": row.holiday_country,
            "holiday_subdivision": row.holiday_subdivision,
            "custom_holidays": "\n".join(f"{h['date']} {h['name']}" for h in row.custom_holidays or []),
            "is_default": row.is_default,
            "version": row.version,
        }
        for n in range(7):
            intervals = (row.hours or {}).get(str(n)) or []
            initial[f"day_{n}"] = ", ".join(f"{start}-{end}" for start, end in intervals)
        return initial

    @classmethod
    def blank_initial(cls, zone: str) -> dict[str, Any]:
        """A new calendar: Monday to Friday 9 to 5 in the user's zone."""
        initial: dict[str, Any] = {"time_zone": zone if zone in time_zones() else "UTC"}
        for n in range(5):
            initial[f"day_{n}"] = "09:00-17:00"
        return initial

    def message_for(self, key: str, message: str) -> tuple[str | None, str]:
        """The form field (and wording) of a service error: `hours.0` -> day_0, `custom_holidays.2` -> the
        textarea, naming the line."""
        parts = key.split(".")
        if parts[0] == "hours":
            if len(parts) > 1 and parts[1].isdigit():
                label = WEEKDAYS[int(parts[1])]
                return f"day_{parts[1]}", message.removeprefix(f"{label}: ")
            return "day_0", message
        if parts[0] == "custom_holidays":
            if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(self.holiday_lines):
                return "custom_holidays", f"Line {self.holiday_lines[int(parts[1])]}: {message}"
            return "custom_holidays", message
        return (parts[0] if parts[0] in self.fields else None), message


class DepartmentCalendarForm(BootstrapForm):
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.none(), required=False, empty_label="The default calendar"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = BusinessCalendar.objects.all()  # type: ignore[attr-defined]


# --- previews --------------------------------------------------------------------------------------------


def _start_field() -> forms.DateTimeField:
    return forms.DateTimeField(
        required=False,
        label="Opened at",
        help_text="Your time zone; empty: now",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


class PolicyPreviewForm(BootstrapForm):
    """'A case opened now (or then) with priority … is due at …'."""

    start = _start_field()
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.HIGH, required=False)
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        empty_label="Any department",
        label="Handled by",
        help_text="Its calendar applies when the policy names none",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "preview")
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True)  # type: ignore[attr-defined]


class CalendarPreviewForm(BootstrapForm):
    start = _start_field()
    policy = forms.ModelChoiceField(
        queryset=SlaPolicy.objects.none(),
        required=False,
        empty_label="No policy: a target of…",
        label="Targets of",
    )
    hours = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(8760),
        max_digits=7,
        decimal_places=2,
        initial=8,
        label="Business hours",
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.HIGH, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "preview")
        super().__init__(*args, **kwargs)
        self.fields["policy"].queryset = SlaPolicy.objects.filter(is_active=True)  # type: ignore[attr-defined]
