"""Numbers, dates and Kinko's messages per locale (kinko.web.formatting, kinko.web.words):
every digit kept, the locale's symbols, UTC said, a message translated with its values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kinko.web import i18n, words
from kinko.web.formatting import day, number, share, units, when

MAX = units(2**256 - 1, 18)


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        (MAX, "en", MAX),  # every one of the 78 digits (Babel's own formatting rounds at 28)
        (MAX, "ja", MAX),
        (MAX, "ko", MAX),
        (MAX, "de", MAX.replace(",", " ").replace(".", ",").replace(" ", ".")),
        (Decimal("-1234567.5"), "hi", "-12,34,567.5"),  # the locale's grouping sizes
        (Decimal("10.00"), "ja", "10.00"),  # places kept as given
        (1234, "ko", "1,234"),
        ("not a number", "ja", "not a number"),
    ],
)
def test_numbers_are_exact_with_the_locale_s_symbols(
    value: int | Decimal | str, locale: str, shown: str
) -> None:
    assert number(value, locale) == shown


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        number(1.5, "en")  # type: ignore[arg-type]


def test_shares_and_days_and_moments_per_locale_in_utc() -> None:
    assert share("95.25", "ja") == "95.25%"
    assert share("5", "de") == "5\xa0%"
    moment = datetime(2026, 12, 7, 14, 3, 1, tzinfo=UTC)
    assert when(moment, "en") == "Dec 7, 2026, 2:03:01\u202fPM UTC"
    assert when(moment, "ja") == "2026/12/07 14:03:01 UTC"
    assert when(moment, "ko") == "2026. 12. 7. 오후 2:03:01 UTC"
    tokyo = moment.astimezone(timezone(timedelta(hours=9)))
    assert when(tokyo, "ja") == when(moment, "ja")  # always shown in UTC
    assert when(moment.replace(tzinfo=None), "ja") == when(moment, "ja")  # naive is UTC
    assert when(moment.isoformat(), "ko") == when(moment, "ko")
    assert when(None, "en") == "" and when("soon", "en") == "soon"
    assert day(date(2026, 1, 1), "ja") == "2026/01/01" and day("2026-01-01", "en") == "Jan 1, 2026"


def test_a_message_from_the_code_is_translated_with_its_values() -> None:
    ja = i18n.translations("ja").gettext
    ko = i18n.translations("ko").gettext
    state = "withdrawal wd_1 is approved, not pending approval"
    assert words.message(state, ja) == "出金 wd_1 は「承認済み」の状態で、承認待ちではありません"
    refused = (
        "alice requested this withdrawal and cannot approve it (four eyes: the proposer "
        "cannot approve their own proposal); it needs an approver or senior_approver other "
        "than alice"
    )
    assert words.message(refused, ko) == (
        "alice 님은 이 출금을 요청했으므로 승인할 수 없습니다(이중 승인 원칙: 요청자는 자신의 "
        "요청을 승인할 수 없습니다). alice 님이 아닌, 승인자 / 상급 승인자 역할을 가진 사람이 "
        "필요합니다"
    )
    plain = "an approval is a person's, with their own security key."
    assert words.message(plain, ja) == "承認は本人が自分のセキュリティキーで行うものです。"
    assert words.message("something new <b>", ja) == "something new <b>"  # as it is
    assert words.message(plain, i18n.translations("en").gettext) == plain
    assert words.word("pending_approval", ko) == "승인 대기"
    assert words.word("brand_new_state", ko) == "brand new state"


def test_a_policy_reason_and_a_cold_share_detail_are_translated_piece_by_piece() -> None:
    ja = i18n.translations("ja").gettext
    reason = (
        "require_approvals (policy 2026-11-21.1): eth-approval: amount 2000 ≥ 1000 needs "
        "2 approvals including 1 approver, 1 senior_approver"
    )
    assert words.message(reason, ja) == (
        "承認が必要(ポリシー 2026-11-21.1):eth-approval:金額 2000 ≥ 1000 のため "
        "1 承認者, 1 上級承認者を含む2件の承認 が必要"
    )
    ko = i18n.translations("ko").gettext
    detail = "customer assets outside cold: 10.00 JPY of 100.00 JPY owed"
    assert words.message(detail, ko) == "콜드 밖 고객 자산: 부채 100.00 JPY 중 10.00 JPY"
