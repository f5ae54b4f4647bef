"""When a round accepts answers: its status plus its schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.models import Round, utc_now
from surveys.service import round_status

NOW = utc_now()
HOUR = timedelta(hours=1)


class TestRoundStatus:
    @pytest.mark.parametrize(
        ("status", "opens_at", "closes_at", "expected"),
        [
            ("draft", None, None, "not_open"),  # not launched
            ("draft", NOW + HOUR, None, "not_open"),  # scheduled for later
            ("draft", NOW - HOUR, None, "open"),  # scheduled: opens by itself
            ("draft", NOW - 2 * HOUR, NOW - HOUR, "closed"),  # its window has passed
            ("open", None, None, "open"),
            ("open", NOW + HOUR, None, "not_open"),
            ("open", NOW - HOUR, NOW + HOUR, "open"),
            ("open", NOW - HOUR, NOW - HOUR / 2, "closed"),  # closes by itself
            ("closed", NOW - HOUR, None, "closed"),
        ],
    )
    def test_status_and_schedule(self, status, opens_at, closes_at, expected) -> None:
        round_ = Round(status=status, opens_at=opens_at, closes_at=closes_at)
        assert round_status(round_, NOW) == expected
