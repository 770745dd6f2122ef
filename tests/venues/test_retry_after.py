"""One `Retry-After` reading for both venues: delta-seconds or an HTTP date, garbage is None."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from venues.http import retry_after_seconds

NOW = datetime(2026, 1, 20, 18, 56, 40, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=10**9))
def test_delta_seconds(seconds: int) -> None:
    assert retry_after_seconds(str(seconds)) == seconds
    assert retry_after_seconds(f" {seconds}\t") == seconds


def test_fractional_seconds_are_waited_as_asked() -> None:
    assert retry_after_seconds("2.5") == 2.5


@given(st.integers(min_value=-86_400, max_value=86_400))
def test_http_date_is_the_time_left_and_never_negative(offset: int) -> None:
    header = format_datetime(NOW + timedelta(seconds=offset), usegmt=True)
    assert retry_after_seconds(header, now=NOW) == max(0, offset)


def test_forms_that_are_not_retry_after_are_none() -> None:
    for value in (None, "", "soon", "-1", "-0.5", "nan", "inf", "1e3", "0x10", "5s", "Tue, 99 Foo 2026"):
        assert retry_after_seconds(value, now=NOW) is None, value
