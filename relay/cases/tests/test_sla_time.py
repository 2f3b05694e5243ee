"""The pure business-time arithmetic of SLA clocks (relay/cases/sla.py): properties, then regressions.

No database: the cases conftest's autouse fixtures that need one are replaced by no-ops below.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from relay.cases.sla import (
    CalendarError,
    WorkCalendar,
    country_choices,
    format_intervals,
    holiday_names,
    parse_intervals,
    subdivision_choices,
)


@pytest.fixture(autouse=True)
def _default_statuses():
    """Overrides the cases conftest's fixture of this name: these tests touch no database."""


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Overrides the root conftest's fixture of this name (it needs Django's settings fixture)."""


US = timedelta(microseconds=1)
H = timedelta(hours=1)
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Kolkata",
)
FIRST, LAST = datetime(2024, 1, 1, tzinfo=UTC), datetime(2029, 12, 31, tzinfo=UTC)
PROPERTY = settings(max_examples=150)
BERLIN, NEW_YORK, LORD_HOWE = (
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),
)
ALL_DAY = {day: [(time(0), time(0))] for day in range(7)}  # 00:00-24:00 every day
NINE_TO_FIVE = {day: [(time(9), time(17))] for day in range(5)}


def _transitions(zone: str) -> list[datetime]:
    """The UTC instants at which the zone's offset changes between FIRST and LAST, to the second."""

    def offset(instant: datetime) -> timedelta | None:
        return instant.astimezone(ZoneInfo(zone)).utcoffset()

    found = []
    day = FIRST
    while day < LAST:
        following = day + timedelta(days=1)
        if offset(day) != offset(following):
            low, high = day, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append(high)
        day = following
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}


# --- strategies -------------------------------------------------------------------------------------------


@st.composite
def day_intervals(draw: st.DrawFn) -> list[tuple[time, time]]:
    """A day's intervals on a 5-minute grid (0 .. 288 steps, 288 = 24:00), up to three."""
    steps = sorted(draw(st.sets(st.integers(0, 288), max_size=6)))
    pairs = []
    for start, end in zip(steps[0::2], steps[1::2], strict=False):
        begin = time(start * 5 // 60, start * 5 % 60)
        finish = time(0) if end == 288 else time(end * 5 // 60, end * 5 % 60)
        pairs.append((begin, finish))
    return pairs


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        return WorkCalendar(zone=zone, always_open=True)
    week = {day: draw(day_intervals()) for day in range(7)}
    if not any(week.values()):
        week[0] = [(time(9), time(17))]
    holidays = draw(st.sets(st.dates(FIRST.date(), LAST.date()), max_size=40))
    country = draw(st.sampled_from(["", "", "", "DE", "CL", "NZ"]))
    return WorkCalendar(zone=zone, week=week, holidays=holidays, country=country)


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """An instant in 2024-2029, often within a day and a half of one of the zone's DST changes, given in
    UTC or in the calendar's zone."""
    if TRANSITIONS[zone] and draw(st.booleans()):
        near = draw(st.sampled_from(TRANSITIONS[zone]))
        instant = near + timedelta(microseconds=draw(st.integers(-36 * 3600 * 10**6, 36 * 3600 * 10**6)))
    else:
        instant = FIRST + timedelta(microseconds=draw(st.integers(0, int((LAST - FIRST) / US))))
    return instant.astimezone(ZoneInfo(zone)) if draw(st.booleans()) else instant


def durations(calendar: WorkCalendar) -> st.SearchStrategy[timedelta]:
    """Up to about three weeks of the calendar's working time, in whole minutes or any microseconds."""
    weekly = sum(
        (
            (24 * 60 if end == time(0) else end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            for day in calendar.week
            for start, end in day
        ),
        0,
    )
    limit = 3 * weekly * 60 * 10**6 if not calendar.always_open else 21 * 86400 * 10**6
    return st.one_of(
        st.just(timedelta(0)),
        st.integers(1, limit // (60 * 10**6)).map(lambda minutes: timedelta(minutes=minutes)),
        st.integers(1, limit).map(lambda micro: timedelta(microseconds=micro)),
    )


@st.composite
def cases(draw: st.DrawFn, count: int = 1, spans: int = 1) -> tuple:
    """A calendar, `count` instants in its zone's range and `spans` durations. After the first, instants
    are mostly within six weeks of it (so that they share days), sometimes anywhere."""
    calendar = draw(calendars())
    points = [draw(instants(calendar.zone))]
    for _ in range(count - 1):
        if draw(st.integers(0, 4)):
            shift = timedelta(microseconds=draw(st.integers(-42 * 86400 * 10**6, 42 * 86400 * 10**6)))
            point = points[0].astimezone(UTC) + shift  # real time, not wall-clock arithmetic
            points.append(point.astimezone(ZoneInfo(calendar.zone)) if draw(st.booleans()) else point)
        else:
            points.append(draw(instants(calendar.zone)))
    lengths = [draw(durations(calendar)) for _ in range(spans)]
    return calendar, points, lengths


def utc(instant: datetime) -> datetime:
    """In UTC: Python compares and subtracts two datetimes of the same zone by their wall clocks."""
    return instant.astimezone(UTC)


def intervals_around(calendar: WorkCalendar, instant: datetime) -> list[tuple[datetime, datetime]]:
    """The working intervals of the local days from the day before `instant` to the day after."""
    local = instant.astimezone(ZoneInfo(calendar.zone)).date()
    return [
        pair for shift in (-1, 0, 1) for pair in calendar.working_intervals(local + timedelta(days=shift))
    ]


def reference_add(calendar: WorkCalendar, start: datetime, duration: timedelta) -> datetime:
    """`add` the slow way: walk the local days' intervals one by one."""
    start = start.astimezone(UTC)
    if duration == timedelta(0):
        return start
    day = start.astimezone(ZoneInfo(calendar.zone)).date() - timedelta(days=1)
    remaining = duration
    while True:
        for low, high in calendar.working_intervals(day):
            if high <= start:
                continue
            begin = max(low, start)
            if remaining <= high - begin:
                return begin + remaining
            remaining -= high - begin
        day += timedelta(days=1)


def reference_elapsed(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    start, end = utc(start), utc(end)
    total = timedelta(0)
    day = start.astimezone(ZoneInfo(calendar.zone)).date() - timedelta(days=1)
    while day <= end.astimezone(ZoneInfo(calendar.zone)).date():
        for low, high in calendar.working_intervals(day):
            total += max(timedelta(0), min(high, end) - max(low, start))
        day += timedelta(days=1)
    return total


# --- properties -------------------------------------------------------------------------------------------


@PROPERTY
@given(cases())
def test_a_due_time_is_after_the_start_inside_working_hours_and_uses_exactly_the_target(case):
    calendar, [start], [duration] = case
    due = calendar.add(start, duration)
    assert due.tzinfo is UTC
    assert due >= start
    assert due == reference_add(calendar, start, duration)
    assert calendar.elapsed(start, due) == duration
    if duration == timedelta(0):
        # compared in UTC: == between zones is always False for a fold=1 time (PEP 495)
        assert due == start.astimezone(UTC)
    else:
        # inside an interval, its end included: working time was passing just before the due time
        assert any(low < due <= high for low, high in intervals_around(calendar, due))
        assert calendar.is_working(due - US)


@PROPERTY
@given(cases(count=2))
def test_a_later_start_is_never_due_earlier(case):
    calendar, points, [duration] = case
    early, late = sorted(points, key=utc)
    assert calendar.add(early, duration) <= calendar.add(late, duration)


@PROPERTY
@given(cases(spans=2))
def test_adding_in_two_steps_is_adding_the_sum(case):
    calendar, [start], [first, second] = case
    assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)


@PROPERTY
@given(cases(count=3))
def test_elapsed_adds_up_over_a_split_point_and_is_zero_backwards(case):
    calendar, points, _ = case
    low, middle, high = sorted(points, key=utc)
    assert calendar.elapsed(low, high) == calendar.elapsed(low, middle) + calendar.elapsed(middle, high)
    assert calendar.elapsed(low, high) == reference_elapsed(calendar, low, high)
    assert calendar.elapsed(high, low) == timedelta(0)
    assert timedelta(0) <= calendar.elapsed(low, high) <= utc(high) - utc(low)


@PROPERTY
@given(cases())
def test_is_working_and_next_working_agree_with_the_intervals(case):
    calendar, [instant], _ = case
    around = intervals_around(calendar, instant)
    inside = any(low <= instant < high for low, high in around)
    assert calendar.is_working(instant) is inside
    following = calendar.next_working(instant)
    assert following.tzinfo is UTC
    assert (following == instant.astimezone(UTC)) is inside
    assert following >= instant and calendar.is_working(following)
    assert calendar.elapsed(instant, following) == timedelta(0)
    # the boundaries of the day's intervals: a start is working, an end is not (unless the next day starts)
    for low, high in calendar.working_intervals(instant.astimezone(ZoneInfo(calendar.zone)).date()):
        assert calendar.is_working(low) and calendar.next_working(low) == low
        assert calendar.is_working(high) is any(start <= high < end for start, end in around)
        assert calendar.is_working(low - US) is any(start <= low - US < end for start, end in around)


@PROPERTY
@given(calendars(), st.dates(FIRST.date(), LAST.date()))
@example(WorkCalendar(zone="America/Santiago", always_open=True), date(2028, 9, 2))  # found by CI
def test_a_days_intervals_are_ordered_disjoint_and_within_its_local_day(calendar, day):
    zone = ZoneInfo(calendar.zone)
    pairs = calendar.working_intervals(day)
    following = calendar.working_intervals(day + timedelta(days=1))
    for low, high in pairs:
        assert low < high
        assert low.astimezone(zone).date() == day
        # inside the day, or its end: the next day's first instant (01:00 where midnight does not happen,
        # as in Santiago on 2028-09-03; compared in UTC, which places a skipped 00:00 at that instant)
        next_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        assert high.astimezone(zone).date() == day or high.astimezone(UTC) == next_day.astimezone(UTC)
    for (_, high), (low, _) in itertools.pairwise(pairs):
        assert high < low  # touching intervals are merged
    if pairs and following:
        assert pairs[-1][1] <= following[0][0]  # a day may end where the next begins (24:00)
    if calendar.is_holiday(day):
        assert pairs == []


# --- DST regressions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),  # 02:00 -> 02:30
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),  # 02:00 -> 01:30
        ("Pacific/Chatham", date(2026, 9, 27), 23),
        ("America/Santiago", date(2026, 9, 6), 23),  # midnight does not happen: the day starts at 01:00
        ("America/Santiago", date(2026, 4, 4), 25),  # 24:00 -> 23:00
        ("Asia/Kolkata", date(2026, 3, 29), 24),
    ],
)
def test_a_whole_day_lasts_its_real_length_across_a_dst_change(zone, day, hours):
    calendar = WorkCalendar(zone=zone, week=ALL_DAY)
    [(low, high)] = calendar.working_intervals(day)
    assert high - low == timedelta(hours=hours)
    assert calendar.add(low, high - low) == high
    # and the next day starts where this one ends
    assert calendar.working_intervals(day + timedelta(days=1))[0][0] == high


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "hours", "utc_start"),
    [
        # spring forward 02:00 -> 03:00: 01:00-04:00 is two real hours
        ("Europe/Berlin", date(2026, 3, 29), time(1), time(4), 2, datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),
        # fall back 03:00 -> 02:00: 01:00-04:00 is four real hours (02:00-03:00 happens twice)
        ("Europe/Berlin", date(2026, 10, 25), time(1), time(4), 4, datetime(2026, 10, 24, 23, 0, tzinfo=UTC)),
        # a start in the gap moves to the end of the gap (03:00 CEST = 01:00 UTC)
        (
            "Europe/Berlin",
            date(2026, 3, 29),
            time(2, 30),
            time(4),
            1,
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        ),
        # a start in the overlap takes its first occurrence, an end its second
        (
            "Europe/Berlin",
            date(2026, 10, 25),
            time(2, 30),
            time(2, 45),
            1.25,
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        ("America/New_York", date(2026, 3, 8), time(1), time(4), 2, datetime(2026, 3, 8, 6, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), time(1), time(4), 4, datetime(2026, 11, 1, 5, 0, tzinfo=UTC)),
        (
            "Australia/Lord_Howe",
            date(2026, 10, 4),
            time(1),
            time(4),
            2.5,
            datetime(2026, 10, 3, 14, 30, tzinfo=UTC),
        ),
        (
            "Australia/Lord_Howe",
            date(2026, 4, 5),
            time(1),
            time(4),
            3.5,
            datetime(2026, 4, 4, 14, 0, tzinfo=UTC),
        ),
    ],
)
def test_an_interval_spanning_a_dst_change_keeps_its_wall_clock_bounds(
    zone, day, start, end, hours, utc_start
):
    calendar = WorkCalendar(zone=zone, week={day.weekday(): [(start, end)]})
    [(low, high)] = calendar.working_intervals(day)
    assert (low, high - low) == (utc_start, timedelta(hours=hours))
    assert calendar.elapsed(low - H, high + H) == timedelta(hours=hours)
    assert calendar.add(low - H, timedelta(hours=hours)) == high


def test_an_interval_entirely_inside_a_spring_forward_gap_is_skipped():
    calendar = WorkCalendar(zone="Europe/Berlin", week={6: [(time(2), time(2, 30)), (time(9), time(10))]})
    assert calendar.working_intervals(date(2026, 3, 29)) == [
        (datetime(2026, 3, 29, 7, tzinfo=UTC), datetime(2026, 3, 29, 8, tzinfo=UTC))
    ]


def test_intervals_that_overlap_in_real_time_after_a_fall_back_are_merged():
    # 00:00-01:30 ends at the second 01:30 (EST), 01:30-03:00 starts at the first (EDT): one span
    calendar = WorkCalendar(
        zone="America/New_York", week={6: [(time(0), time(1, 30)), (time(1, 30), time(3))]}
    )
    [(low, high)] = calendar.working_intervals(date(2026, 11, 1))
    assert (low, high) == (datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC))
    assert calendar.elapsed(low, high) == high - low == timedelta(hours=4)


# --- office hours -----------------------------------------------------------------------------------------


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_a_case_opened_friday_afternoon_is_due_monday():
    calendar = WorkCalendar(zone="Europe/Berlin", week=NINE_TO_FIVE)
    friday = berlin(2026, 3, 6, 16, 55)
    assert calendar.add(friday, 8 * H) == berlin(2026, 3, 9, 16, 55)
    assert calendar.add(friday, 1 * H) == berlin(2026, 3, 9, 9, 55)


def test_a_case_opened_on_saturday_counts_from_monday_morning():
    calendar = WorkCalendar(zone="Europe/Berlin", week=NINE_TO_FIVE)
    saturday = berlin(2026, 3, 7, 11, 20)
    assert calendar.next_working(saturday) == berlin(2026, 3, 9, 9)
    assert calendar.add(saturday, 2 * H) == berlin(2026, 3, 9, 11)
    assert calendar.elapsed(saturday, berlin(2026, 3, 9, 9)) == timedelta(0)


def test_a_holiday_on_monday_pushes_the_due_time_to_tuesday():
    calendar = WorkCalendar(zone="Europe/Berlin", week=NINE_TO_FIVE, holidays=[date(2026, 3, 9)])
    assert calendar.add(berlin(2026, 3, 6, 16, 55), H) == berlin(2026, 3, 10, 9, 55)
    assert calendar.working_intervals(date(2026, 3, 9)) == []


def test_a_preset_country_holiday_is_closed():
    calendar = WorkCalendar(zone="Europe/Berlin", week=NINE_TO_FIVE, country="DE")
    assert calendar.is_holiday(date(2026, 12, 25))  # a Friday
    assert calendar.working_intervals(date(2026, 12, 25)) == []
    assert not calendar.is_working(berlin(2026, 12, 25, 10))
    # Thursday 24 December 16:00 + 2 h: the 25th is closed, so Monday 28th 10:00
    assert calendar.add(berlin(2026, 12, 24, 16), 2 * H) == berlin(2026, 12, 28, 10)
    bavaria = WorkCalendar(zone="Europe/Berlin", week=NINE_TO_FIVE, country="DE", subdivision="BY")
    assert bavaria.is_holiday(date(2026, 1, 6)) and not calendar.is_holiday(date(2026, 1, 6))  # Epiphany


def test_the_end_of_an_interval_is_a_due_time_but_not_working():
    calendar = WorkCalendar(zone="Europe/Berlin", week=NINE_TO_FIVE)
    monday = berlin(2026, 3, 9, 9)
    # the whole day's target is due at 17:00 the same day, not at 09:00 on Tuesday
    assert calendar.add(monday, 8 * H) == berlin(2026, 3, 9, 17)
    assert calendar.add(monday, 8 * H + US) == berlin(2026, 3, 10, 9) + US
    assert calendar.is_working(berlin(2026, 3, 9, 9))
    assert calendar.is_working(berlin(2026, 3, 9, 17) - US)
    assert not calendar.is_working(berlin(2026, 3, 9, 17))
    assert not calendar.is_working(berlin(2026, 3, 9, 9) - US)
    lunch = WorkCalendar(zone="Europe/Berlin", week={0: [(time(9), time(12)), (time(13), time(17))]})
    assert lunch.is_working(berlin(2026, 3, 9, 12) - US) and not lunch.is_working(berlin(2026, 3, 9, 12))
    assert lunch.next_working(berlin(2026, 3, 9, 12)) == berlin(2026, 3, 9, 13)
    assert lunch.add(berlin(2026, 3, 9, 9), 3 * H) == berlin(2026, 3, 9, 12)
    assert calendar.next_working(berlin(2026, 3, 9, 17)) == berlin(2026, 3, 10, 9)
    # counting on from a due time at an interval's end goes on at the next start
    assert calendar.add(berlin(2026, 3, 9, 17), H) == berlin(2026, 3, 10, 10)


def test_touching_intervals_and_a_day_ending_at_24_00_join_up():
    week = {0: [(time(9), time(12)), (time(12), time(0))], 1: [(time(0), time(1))]}
    calendar = WorkCalendar(zone="Europe/Berlin", week=week)
    assert calendar.add(berlin(2026, 3, 9, 11), 2 * H) == berlin(2026, 3, 9, 13)
    assert calendar.add(berlin(2026, 3, 9, 23), 90 * timedelta(minutes=1)) == berlin(2026, 3, 10, 0, 30)
    assert calendar.is_working(berlin(2026, 3, 10, 0))


def test_always_open_is_24_7_and_ignores_the_week_and_holidays():
    calendar = WorkCalendar(zone="Europe/Berlin", week={}, holidays=[date(2026, 12, 25)], always_open=True)
    start = berlin(2026, 12, 24, 23)
    assert calendar.add(start, 5 * H) == (start + 5 * H).astimezone(UTC)
    assert calendar.elapsed(start, start + 49 * H) == 49 * H
    assert calendar.is_working(start) and calendar.next_working(start) == start
    [(low, high)] = calendar.working_intervals(date(2026, 10, 25))
    assert high - low == 25 * H
    assert holiday_names(calendar, 2026) == []


def test_arithmetic_is_exact_to_the_microsecond():
    calendar = WorkCalendar(zone="Australia/Lord_Howe", week=NINE_TO_FIVE, country="AU", subdivision="NSW")
    start = datetime(2026, 10, 2, 16, 59, 59, 999_999, tzinfo=LORD_HOWE)
    steps = [calendar.add(start, timedelta(microseconds=n * 333_333_333)) for n in range(200)]
    for n, due in enumerate(steps):
        assert calendar.elapsed(start, due) == timedelta(microseconds=n * 333_333_333)


def test_zero_and_negative_durations_and_naive_instants():
    calendar = WorkCalendar(zone="America/New_York", week=NINE_TO_FIVE)
    saturday = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    assert calendar.add(saturday, timedelta(0)) == saturday
    assert calendar.add(saturday, timedelta(0)).tzinfo is UTC
    with pytest.raises(ValueError, match="negative"):
        calendar.add(saturday, -US)
    with pytest.raises(ValueError, match="time zone"):
        calendar.add(datetime(2026, 3, 7, 12), H)


def test_a_calendar_without_working_time_for_years_gives_up():
    monday_only = {0: [(time(9), time(17))]}
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(600)]  # eleven years of Mondays
    calendar = WorkCalendar(zone="Europe/Berlin", week=monday_only, holidays=mondays)
    with pytest.raises(CalendarError, match="no working time"):
        calendar.add(berlin(2026, 1, 1), H)


# --- configuration errors ---------------------------------------------------------------------------------


def test_parse_and_format_intervals_round_trip():
    assert parse_intervals("09:00-12:00, 13:00-17:00") == [(time(9), time(12)), (time(13), time(17))]
    assert parse_intervals("") == [] and parse_intervals("  ") == []
    assert parse_intervals("9:00 - 12:00,") == [(time(9), time(12))]
    assert parse_intervals("00:00-24:00") == [(time(0), time(0))]
    assert parse_intervals("08:00-12:00, 12:00-13:30:15") == [
        (time(8), time(12)),
        (time(12), time(13, 30, 15)),
    ]
    for text in ("09:00-12:00, 13:00-17:00", "", "00:00-24:00", "07:30-08:00:30, 22:00-24:00"):
        assert format_intervals(parse_intervals(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", '"9-17" is not an interval'),
        ("09:00-17:00, lunch", '"lunch" is not an interval'),
        ("17:00-09:00", '"17:00-09:00": the end must be after the start'),
        ("09:00-09:00", "the end must be after the start"),
        ("22:00-00:00", "write 24:00"),
        ("24:00-24:00", "24:00 can only end an interval"),
        ("09:00-25:00", "25:00 is not a time of day"),
        ("09:60-10:00", "09:60 is not a time of day"),
        ("09:00-12:00, 11:00-14:00", '"11:00-14:00" overlaps or comes before "09:00-12:00"'),
        ("13:00-14:00, 09:00-10:00", '"09:00-10:00" overlaps or comes before "13:00-14:00"'),
    ],
)
def test_parse_intervals_names_the_bad_piece(text, message):
    with pytest.raises(CalendarError, match=message):
        parse_intervals(text)


def test_bad_calendars_are_refused_with_a_clear_message():
    with pytest.raises(CalendarError, match="not a known time zone"):
        WorkCalendar(zone="Europe/Atlantis")
    with pytest.raises(CalendarError, match="not a known time zone"):
        WorkCalendar(zone="../etc/passwd")
    with pytest.raises(CalendarError, match="not a country"):
        WorkCalendar(zone="Europe/Berlin", country="XX")
    with pytest.raises(CalendarError, match="not a subdivision of DE"):
        WorkCalendar(zone="Europe/Berlin", country="DE", subdivision="ZZ")
    with pytest.raises(CalendarError, match="no working hours"):
        WorkCalendar(zone="Europe/Berlin", week={0: [], 1: []})
    with pytest.raises(CalendarError, match="Tuesday"):
        WorkCalendar(zone="Europe/Berlin", week={1: [(time(12), time(9))]})
    with pytest.raises(CalendarError, match="not a weekday"):
        WorkCalendar(zone="Europe/Berlin", week={7: [(time(9), time(17))]})


def test_country_and_subdivision_choices_and_the_holiday_preview():
    choices = country_choices()
    assert ("DE", "Germany") in choices and ("US", "United States of America") in choices
    assert [name for _, name in choices].index("Åland Islands") < [name for _, name in choices].index(
        "Albania"
    )
    assert "BY" in subdivision_choices("DE") and subdivision_choices("de") == subdivision_choices("DE")
    with pytest.raises(CalendarError):
        subdivision_choices("XX")
    calendar = WorkCalendar(
        zone="Europe/Berlin", country="DE", holidays={date(2026, 12, 24): "Christmas Eve"}
    )
    preview = holiday_names(calendar, 2026)
    assert (date(2026, 12, 24), "Christmas Eve") in preview and (
        date(2026, 12, 25),
        "Christmas Day",
    ) in preview
    assert [day for day, _ in preview] == sorted(day for day, _ in preview)
    assert all(day.year == 2026 for day, _ in preview)
    assert holiday_names(WorkCalendar(zone="UTC", holidays=[date(2027, 1, 4)]), 2027) == [
        (date(2027, 1, 4), "Holiday")
    ]
