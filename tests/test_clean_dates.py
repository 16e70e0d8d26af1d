"""Publication dates read from bylines and datelines."""

from __future__ import annotations

import pytest

from provarchive.cleaning.dates import parse_date


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published: 3 March 2024", "2024-03-03"),
        ("Published 10:48, Tue, Nov 19, 2019", "2019-11-19"),
        ("by Paulo Coelho on June 27, 2012", "2012-06-27"),
        ("July 24, 2012 12:11 AM", "2012-07-24"),
        ("Updated July 23, 2012, 10:49 p.m. ET", "2012-07-23"),
        ("Last updated: 12th of June 2021", "2021-06-12"),
        ("Sept. 5, 2019", "2019-09-05"),
        ("Mon, 19 Sep 2022 18:52:34 +0300", "2022-09-19"),
        ("2024-03-03", "2024-03-03"),
        ("Posted 25/12/2023", "2023-12-25"),  # only one reading: day 25
        ("12/25/2023", "2023-12-25"),
    ],
)
def test_dates_stated_in_full_are_read(line: str, expected: str) -> None:
    assert parse_date(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "03/04/2024",  # 3 April or March 4: no guess
        "Posted at 08:37 PM in Game design | Permalink",  # a time, no date
        "By Jane Doe | March 2024",  # no day
        "Published 2 hours ago",
        "by May Smith",
        "Veröffentlicht am 20. März 2024",  # dateutil reads English month names only
        "Version 3, 29 June 2007",  # GPL-3's: the fuzzy parse reads 29 June 2003
        "June 29, '07",  # a year not written in full
        "",
        "x" * 500,
    ],
)
def test_partial_ambiguous_or_foreign_dates_give_none(line: str) -> None:
    assert parse_date(line) is None


def test_parsing_does_not_depend_on_today() -> None:
    # Missing parts would be filled from a default date; two defaults expose them.
    assert parse_date("June 27") is None
    assert parse_date("27 June 2012 at noon") == "2012-06-27"
