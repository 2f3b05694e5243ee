"""Business-time arithmetic for SLA clocks (issue 4), pure: no database, no models.

A `WorkCalendar` is a time zone, a week of local working intervals and the days it is closed (a preset of
the `holidays` package for a country/subdivision, plus its own dates). The services turn a calendar row
into a `WorkCalendar`, and ask it when a target is due (`add`) and how much working time a case has used
(`elapsed`); the tests property-test this module alone.

Rules, in one place:

* **UTC in, UTC out.** Every instant taken is aware (any zone); every instant returned is aware UTC. The
  calendar computes in its own zone.
* **Local intervals keep their wall-clock bounds across DST changes.** A start that falls in a
  spring-forward gap moves to the first instant after the gap (an end in a gap too: both are the
  transition instant). In a fall-back overlap a start takes the earlier instant (fold=0) and an end the
  later one (fold=1), so the interval covers its whole wall-clock span. The end "24:00" is the start of the
  next local day, so a 00:00-24:00 day lasts 23 h or 25 h across a DST change (23.5 h on Lord Howe) and
  consecutive days join without a seam. Intervals of zero or negative real length are skipped; intervals
  that come to overlap in real time are merged.
* **Half-open intervals.** An interval [start, end) is working at its start and not at its end:
  `is_working(17:00)` is False in a 9-17 day, and `next_working` returns the next start. A due time is the
  instant at which the last microsecond of the target has passed, so it lies in (start, end] of an
  interval: a target that uses a day's last working minute is due at the interval's end (17:00), not at
  the next day's opening.
* **A holiday closes its whole local day.** `always_open` is 24/7: week and holidays are ignored.
* **Exact.** Internally every instant is an integer count of microseconds since 1970-01-01 UTC, so
  `add(add(s, a), b) == add(s, a + b)` and `elapsed(s, add(s, d)) == d` hold exactly.
* **Fast.** Each local day's intervals are converted to UTC once per calendar instance and cached by date
  ordinal; closed days are cached as an empty tuple; a day the target outlasts is skipped whole.

Text form of a day's intervals (`parse_intervals` / `format_intervals`): `"09:00-12:00, 13:00-17:00"`,
`""` for a closed day. In the tuple form an end of `time(0)` means 24:00 (the end of the day); `time(0)`
can only mean 24:00 as an end, since an end must come after its start.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_package

__all__ = [
    "DEFAULT_WEEK",
    "CalendarError",
    "WorkCalendar",
    "country_choices",
    "format_intervals",
    "holiday_names",
    "parse_intervals",
    "subdivision_choices",
]

Interval = tuple[time, time]

MIDNIGHT = time(0)  # as an interval's end: 24:00, the end of the day
DEFAULT_WEEK: dict[int, tuple[Interval, ...]] = {day: ((time(9), time(17)),) for day in range(5)}  # Mon-Fri
# give up after this many consecutive days without working time (about ten years of holidays)
MAX_IDLE_DAYS = 3700
CUSTOM_HOLIDAY_NAME = "Holiday"

_US = 1_000_000
_DAY_US = 86_400 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MAX_ORDINAL = date.max.toordinal()

_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
_PIECE = re.compile(rf"{_TIME}\s*[-\u2013]\s*{_TIME}")  # a hyphen or an en dash

# a cached day: (working µs, first start, last end, ((start, end), ...)) in µs since the epoch; () = closed
_Day = tuple[int, int, int, tuple[tuple[int, int], ...]] | tuple[()]
_CLOSED: tuple[()] = ()


class CalendarError(ValueError):
    """A calendar that cannot be used as given; the message is meant for the person who configured it."""


# --- intervals as text ---------------------------------------------------------------------------------


def _fmt_time(value: time, *, end: bool) -> str:
    if end and value == MIDNIGHT:
        return "24:00"
    text = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        text += f":{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text


def _minutes_key(value: time, *, end: bool) -> tuple[int, int]:
    """Sortable position in the day; an end of 00:00 is 24:00."""
    if end and value == MIDNIGHT:
        return (86_400, 0)
    return (value.hour * 3600 + value.minute * 60 + value.second, value.microsecond)


def _check_intervals(intervals: Iterable[Interval], *, where: str = "") -> tuple[Interval, ...]:
    """The intervals as a tuple, after checking they are naive times, each ends after it starts, in order."""
    checked: list[Interval] = []
    previous: Interval | None = None
    prefix = f"{where}: " if where else ""
    for pair in intervals:
        try:
            start, end = pair
        except (TypeError, ValueError):
            raise CalendarError(f"{prefix}{pair!r} is not a (start, end) pair of times") from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise CalendarError(f"{prefix}{pair!r} is not a (start, end) pair of times")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise CalendarError(f"{prefix}working hours are local times, without a time zone")
        piece = f"{_fmt_time(start, end=False)}-{_fmt_time(end, end=True)}"
        if _minutes_key(end, end=True) <= _minutes_key(start, end=False):
            raise CalendarError(f'{prefix}"{piece}": the end must be after the start')
        if previous is not None and _minutes_key(start, end=False) < _minutes_key(previous[1], end=True):
            before = f"{_fmt_time(previous[0], end=False)}-{_fmt_time(previous[1], end=True)}"
            raise CalendarError(
                f'{prefix}"{piece}" overlaps or comes before "{before}": list the intervals in order, '
                "without overlaps"
            )
        checked.append((start, end))
        previous = (start, end)
    return tuple(checked)


def _parse_time(piece: str, hour: str, minute: str, second: str | None, fraction: str | None) -> time:
    h, m, s = int(hour), int(minute), int(second or 0)
    us = int((fraction or "0").ljust(6, "0"))
    if h == 24 and m == s == us == 0:
        return MIDNIGHT  # only allowed as an end; the caller checks
    if h > 23 or m > 59 or s > 59:
        raise CalendarError(f'"{piece}": {hour}:{minute} is not a time of day (write HH:MM, 00:00 to 24:00)')
    return time(h, m, s, us)


def parse_intervals(text: str) -> list[Interval]:
    """Parse a day's working hours, e.g. ``"09:00-12:00, 13:00-17:00"``; ``""`` is a closed day.

    Returns ``[(time(9), time(12)), (time(13), time(17))]``. "24:00" is allowed as an end only and comes
    back as ``time(0)`` (an end of ``time(0)`` always means 24:00). Seconds (``09:00:30``) are allowed.
    Intervals must each end after they start, be in order and not overlap (touching is fine); otherwise
    `CalendarError`, naming the bad piece.
    """
    intervals: list[Interval] = []
    for raw in text.split(","):
        piece = raw.strip()
        if not piece:
            continue
        found = _PIECE.fullmatch(piece)
        if found is None:
            raise CalendarError(f'"{piece}" is not an interval: write it as HH:MM-HH:MM, e.g. 09:00-17:00')
        groups = found.groups()
        start = _parse_time(piece, *groups[:4])
        end = _parse_time(piece, *groups[4:])
        if start == MIDNIGHT and groups[0] == "24":
            raise CalendarError(f'"{piece}": 24:00 can only end an interval')
        if end == MIDNIGHT and groups[4] != "24":
            raise CalendarError(f'"{piece}": the end must be after the start (write 24:00 for midnight)')
        intervals.append((start, end))
    return list(_check_intervals(intervals))


def format_intervals(intervals: Iterable[Interval]) -> str:
    """The text form of a day's intervals, the inverse of `parse_intervals` (``""`` when closed)."""
    return ", ".join(f"{_fmt_time(start, end=False)}-{_fmt_time(end, end=True)}" for start, end in intervals)


# --- the holidays package ------------------------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _country_name(code: str) -> str:
    """The country's English name: the first line of its holidays class docstring ("Germany holidays.")."""
    for klass in getattr(holidays_package, code).__mro__:
        first = (klass.__doc__ or "").strip().splitlines()[:1]
        if first and first[0].endswith(" holidays."):
            return first[0].removesuffix(" holidays.").removesuffix(" (the)")
    return code


@cache
def _countries() -> tuple[tuple[str, str], ...]:
    supported = holidays_package.list_supported_countries(include_aliases=False)
    pairs = [(code, _country_name(code)) for code in supported]
    return tuple(sorted(pairs, key=lambda pair: (_fold(pair[1]), pair[0])))


@cache
def _subdivisions() -> dict[str, tuple[str, ...]]:
    supported = holidays_package.list_supported_countries(include_aliases=False)
    return {code: tuple(subdivisions) for code, subdivisions in supported.items()}


def country_choices() -> list[tuple[str, str]]:
    """(code, English name) of every country the holidays package knows, sorted by name."""
    return list(_countries())


def subdivision_choices(country: str) -> list[str]:
    """The subdivision codes the holidays package knows for a country ([] if it has none)."""
    code = country.strip().upper()
    try:
        return list(_subdivisions()[code])
    except KeyError:
        raise CalendarError(f'"{country}" is not a country with a holiday calendar') from None


def _preset(country: str, subdivision: str, **options: Any) -> holidays_package.HolidayBase:
    try:
        return holidays_package.country_holidays(country, subdiv=subdivision or None, **options)
    except NotImplementedError:
        if country not in _subdivisions():
            raise CalendarError(f'"{country}" is not a country with a holiday calendar') from None
        raise CalendarError(f'"{subdivision}" is not a subdivision of {country} with holidays') from None


# --- conversions ---------------------------------------------------------------------------------------


def _td_us(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * _US + value.microseconds


def _dt_us(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: pass an aware datetime")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _us_dt(value: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=value)
    except OverflowError:
        raise CalendarError("the result lies beyond the year 9999") from None


# --- the calendar --------------------------------------------------------------------------------------


class WorkCalendar:
    """Working time in a zone: a week of local intervals, minus holidays (or 24/7 when `always_open`)."""

    def __init__(
        self,
        *,
        zone: str,
        week: Mapping[int, Sequence[Interval]] | None = None,
        holidays: Iterable[date] = (),
        country: str = "",
        subdivision: str = "",
        always_open: bool = False,
    ) -> None:
        """`week` maps a weekday (0 = Monday .. 6 = Sunday) to that day's local working intervals (see
        `parse_intervals` for the tuple form); a missing weekday is closed; `None` is Monday-Friday 9-17.
        `holidays` are extra closed dates (a mapping date -> name also gives their names for
        `holiday_names`). `country`/`subdivision` add a preset from the holidays package."""
        try:
            self._zone = ZoneInfo(zone)
        except (KeyError, ValueError, TypeError, OSError):  # ZoneInfoNotFoundError is a KeyError
            raise CalendarError(f'"{zone}" is not a known time zone (e.g. Europe/Berlin)') from None
        self.zone = zone
        self.always_open = always_open
        self.country = country.strip().upper()
        self.subdivision = subdivision.strip()
        if self.subdivision and not self.country:
            raise CalendarError("a subdivision needs a country")

        source = DEFAULT_WEEK if week is None else week
        weekly: list[tuple[Interval, ...]] = [()] * 7
        for weekday, intervals in source.items():
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise CalendarError(f"{weekday!r} is not a weekday (0 = Monday .. 6 = Sunday)")
            weekly[weekday] = _check_intervals(intervals, where=_WEEKDAYS[weekday])
        self.week: tuple[tuple[Interval, ...], ...] = tuple(weekly)
        if not always_open and not any(self.week):
            raise CalendarError("the calendar has no working hours on any day of the week")

        self.holiday_labels: dict[date, str] = {}
        for day in holidays:
            if not isinstance(day, date):
                raise CalendarError(f"{day!r} is not a date")
            label = holidays[day] if isinstance(holidays, Mapping) else CUSTOM_HOLIDAY_NAME
            self.holiday_labels[date(day.year, day.month, day.day)] = str(label or CUSTOM_HOLIDAY_NAME)
        self.holidays: frozenset[date] = frozenset(self.holiday_labels)
        # the preset expands years lazily as dates are looked up
        self._preset = _preset(self.country, self.subdivision) if self.country else None
        self._days: dict[int, _Day] = {}

    def __repr__(self) -> str:
        if self.always_open:
            return f"<WorkCalendar {self.zone} 24/7>"
        week = "; ".join(f"{_WEEKDAYS[i]} {format_intervals(day)}" for i, day in enumerate(self.week) if day)
        preset = f" {self.country}" if self.country else ""
        preset += f"-{self.subdivision}" if self.subdivision else ""
        return f"<WorkCalendar {self.zone} {week}{preset} +{len(self.holidays)} holidays>"

    # --- public arithmetic ------------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of working time has passed, counting from `start` (aware).

        Returns an aware UTC datetime, in (interval start, interval end] of some interval when `duration`
        is positive; `start` itself (in UTC) when it is zero. A negative duration is a ValueError."""
        remaining = _td_us(duration)
        if remaining < 0:
            raise ValueError(f"a negative duration ({duration}) cannot be added")
        at = _dt_us(start)
        if remaining == 0:
            return _us_dt(at)
        if self.always_open:
            return _us_dt(at + remaining)
        return _us_dt(self._add_us(at, remaining))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if `end` <= `start`)."""
        low, high = _dt_us(start), _dt_us(end)
        if high <= low:
            return timedelta(0)
        if self.always_open:
            return timedelta(microseconds=high - low)
        return timedelta(microseconds=self._elapsed_us(low, high))

    def is_working(self, at: datetime) -> bool:
        """Whether working time passes at `at`: it lies in [start, end) of an interval (17:00 is not
        working in a 9-17 day; 09:00 is)."""
        instant = _dt_us(at)
        if self.always_open:
            return True
        first = instant // _DAY_US + _EPOCH_ORDINAL - 1
        for ordinal in range(first, first + 3):
            day = self._day(ordinal)
            if day and day[1] <= instant < day[2]:
                for low, high in day[3]:
                    if low <= instant < high:
                        return True
        return False

    def next_working(self, at: datetime) -> datetime:
        """`at` itself (in UTC) when it is working, else the start of the next interval."""
        instant = _dt_us(at)
        if self.always_open:
            return _us_dt(instant)
        return _us_dt(self._next_us(instant))

    def working_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """That local day's working intervals, as aware UTC (start, end) pairs, after DST conversion."""
        ordinal = day.toordinal()
        if self.always_open:
            low, high = self._day_start(ordinal), self._day_start(ordinal + 1)
            return [(_us_dt(low), _us_dt(high))] if high > low else []
        cached = self._day(ordinal)
        return [(_us_dt(low), _us_dt(high)) for low, high in cached[3]] if cached else []

    def is_holiday(self, day: date) -> bool:
        """Whether a local date is closed by a holiday (custom or preset); False when always open."""
        if self.always_open:
            return False
        return day in self.holidays or (self._preset is not None and day in self._preset)

    # --- the hot path -----------------------------------------------------------------------------------

    def _add_us(self, at: int, remaining: int) -> int:
        days = self._days
        # the local date of `at` is within a day of its UTC date; start a day early and skip what ends before
        ordinal = at // _DAY_US + _EPOCH_ORDINAL - 1
        idle = 0
        while True:
            day = days.get(ordinal)
            if day is None:
                day = self._build(ordinal)
            if day:
                idle = 0
                total, first, last, spans = day
                if last > at:
                    if first >= at and remaining > total:
                        remaining -= total  # the whole day is used up
                    else:
                        for low, high in spans:
                            if high <= at:
                                continue
                            begin = low if low > at else at
                            if remaining <= high - begin:
                                return begin + remaining
                            remaining -= high - begin
            else:
                idle += 1
                if idle > MAX_IDLE_DAYS:
                    raise CalendarError(f"the calendar has no working time for {MAX_IDLE_DAYS} days in a row")
            ordinal += 1

    def _next_us(self, at: int) -> int:
        days = self._days
        ordinal = at // _DAY_US + _EPOCH_ORDINAL - 1
        idle = 0
        while True:
            day = days.get(ordinal)
            if day is None:
                day = self._build(ordinal)
            if day:
                idle = 0
                if day[2] > at:
                    for low, high in day[3]:
                        if high > at:
                            return low if low > at else at
            else:
                idle += 1
                if idle > MAX_IDLE_DAYS:
                    raise CalendarError(f"the calendar has no working time for {MAX_IDLE_DAYS} days in a row")
            ordinal += 1

    def _elapsed_us(self, low: int, high: int) -> int:
        days = self._days
        total = 0
        # the local date of `high` is at most a day after its UTC date; later days start after it
        for ordinal in range(low // _DAY_US + _EPOCH_ORDINAL - 1, high // _DAY_US + _EPOCH_ORDINAL + 2):
            day = days.get(ordinal)
            if day is None:
                day = self._build(ordinal)
            if not day:
                continue
            worked, first, last, spans = day
            if first >= high:
                break
            if last <= low:
                continue
            if first >= low and last <= high:
                total += worked
                continue
            for start, end in spans:
                begin = start if start > low else low
                finish = end if end < high else high
                if finish > begin:
                    total += finish - begin
        return total

    # --- building a day ---------------------------------------------------------------------------------

    def _day(self, ordinal: int) -> _Day:
        day = self._days.get(ordinal)
        return self._build(ordinal) if day is None else day

    def _build(self, ordinal: int) -> _Day:
        if not 1 <= ordinal < _MAX_ORDINAL:
            raise CalendarError("working time beyond the year 9999 (or before year 1) cannot be computed")
        local = date.fromordinal(ordinal)
        intervals = self.week[local.weekday()]
        if not intervals or self.is_holiday(local):
            self._days[ordinal] = _CLOSED
            return _CLOSED
        day_start, day_end = self._day_start(ordinal), self._day_start(ordinal + 1)
        spans: list[list[int]] = []
        for start, end in intervals:
            low = max(self._to_us(local, start, end=False), day_start)
            high = day_end if end == MIDNIGHT else min(self._to_us(local, end, end=True), day_end)
            if high <= low:
                continue  # e.g. 02:00-02:30 on a spring-forward day
            if spans and low <= spans[-1][1]:  # overlapping in real time after a fall-back: merge
                spans[-1][1] = max(spans[-1][1], high)
            else:
                spans.append([low, high])
        if not spans:
            self._days[ordinal] = _CLOSED
            return _CLOSED
        pairs = tuple((low, high) for low, high in spans)
        built = (sum(high - low for low, high in pairs), pairs[0][0], pairs[-1][1], pairs)
        self._days[ordinal] = built
        return built

    def _day_start(self, ordinal: int) -> int:
        """The first instant of a local day (00:00, or the end of a gap that swallows midnight)."""
        if ordinal > _MAX_ORDINAL:
            raise CalendarError("working time beyond the year 9999 cannot be computed")
        return self._to_us(date.fromordinal(ordinal), MIDNIGHT, end=False)

    def _to_us(self, day: date, at: time, *, end: bool) -> int:
        """A local wall-clock time as µs since the epoch: a time in a gap is the end of the gap; in an
        overlap a start takes the earlier instant, an end the later one."""
        wall = datetime.combine(day, at, tzinfo=self._zone)
        naive = (
            (day.toordinal() - _EPOCH_ORDINAL) * 86_400 + at.hour * 3600 + at.minute * 60 + at.second
        ) * _US + at.microsecond
        before = _td_us(wall.utcoffset() or timedelta(0))
        after = _td_us(wall.replace(fold=1).utcoffset() or timedelta(0))
        if before == after:
            return naive - before
        if after < before:  # an overlap (fall-back): the wall time happens twice
            return naive - after if end else naive - before
        # a gap (spring-forward): the wall time never happens; the transition lies in (naive - after,
        # naive - before]; find it to the second (zoneinfo transitions are whole seconds)
        low, high = (naive - after) // _US, -(-(naive - before) // _US)
        offset_low = self._offset_us(low * _US)
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset_us(middle * _US) == offset_low:
                low = middle
            else:
                high = middle
        return high * _US

    def _offset_us(self, instant: int) -> int:
        offset = (_EPOCH + timedelta(microseconds=instant)).astimezone(self._zone).utcoffset()
        return _td_us(offset or timedelta(0))


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def holiday_names(calendar: WorkCalendar, year: int) -> list[tuple[date, str]]:
    """The holidays that close the calendar in a year, preset (in English where the package has it) and
    custom, sorted by date, for a preview. Names on the same date are joined with "; ". An always-open
    calendar ignores holidays, so it has none."""
    if calendar.always_open:
        return []
    names: dict[date, list[str]] = {}
    if calendar.country:
        klass = getattr(holidays_package, calendar.country)
        default = klass.default_language or ""
        english = "en_US" in klass.supported_languages and not default.startswith("en")
        language = "en_US" if english else None
        preset = _preset(calendar.country, calendar.subdivision, years=year, language=language)
        for day, name in sorted(preset.items()):
            names.setdefault(day, []).append(str(name))
    for day, label in calendar.holiday_labels.items():
        if day.year == year:
            names.setdefault(day, []).append(label)
    return [(day, "; ".join(labels)) for day, labels in sorted(names.items())]


# --- words -------------------------------------------------------------------------------------------------


def span_text(value: timedelta | int | float | None) -> str:
    """'25 min', '3 h 10 min', '1 h 05 min', '2 days 4 h', 'less than a minute', '0 min' (rounded down)."""
    if value is None:
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        return "0 min"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"
