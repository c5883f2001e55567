"""Issue 10's legal findings (items 9–13) and user-visible defects (14–17, 19), each against the text of law
or PROCEDURES.md it comes from."""

import datetime as dt

import pytest

from cases.models import DisplayState
from cases.services.records import RecordStateError, record_expire, record_repair
from cases.services.repair import records_expire_due
from tests.factories import CreditRecordFactory


# --- item 9: 严重失信主体名单, Henan 条例 Art 19 ¶3 ------------------------------------------------------
@pytest.mark.django_db
class TestSeriousDishonestyList:
    def _listed(self, enterprise, market_bureau, **kwargs):
        kwargs.setdefault("obligations_performed", True)
        return CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            kind="serious_list",
            severity="serious",
            decision_date=dt.date(2019, 8, 1),
            publication_date=dt.date(2019, 8, 5),
            display_min_until=dt.date(2020, 8, 1),
            display_max_until=dt.date(2022, 8, 1),
            **kwargs,
        )

    def test_it_stays_displayed_past_the_5_year_cap_while_the_subject_is_on_the_list(
        self, rule_sets, enterprise, market_bureau
    ):
        record = self._listed(enterprise, market_bureau)
        # More than 5 years after the decision, maximum period long over, obligations performed.
        with pytest.raises(RecordStateError) as caught:
            record_expire(actor="scheduler", record=record, reason="满五年", today=dt.date(2026, 11, 25))
        assert caught.value.code == "on_serious_list"
        assert "第十九条第三款" in str(caught.value.message)
        assert records_expire_due(today=dt.date(2026, 11, 25)) == 0
        record.refresh_from_db()
        assert record.display_state == DisplayState.DISPLAYED

    def test_removal_from_the_list_ends_its_display(self, rule_sets, enterprise, market_bureau, handler):
        record = self._listed(enterprise, market_bureau)
        record = record_repair(actor=handler, record=record, reason="移出严重失信主体名单")
        assert record.display_state == DisplayState.REPAIRED

    def test_other_records_still_stop_at_the_cap(self, rule_sets, enterprise, market_bureau):
        other = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            kind="admin_penalty",
            severity="serious",
            decision_date=dt.date(2019, 8, 1),
            publication_date=dt.date(2019, 8, 5),
            display_min_until=dt.date(2020, 8, 1),
            display_max_until=dt.date(2022, 8, 1),
            obligations_performed=True,
        )
        assert records_expire_due(today=dt.date(2026, 11, 25)) == 1
        other.refresh_from_db()
        assert other.display_state == DisplayState.EXPIRED
