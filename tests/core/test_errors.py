"""Messages people read carry no server path (apps.core.errors.scrub_paths)."""

from __future__ import annotations

import pytest

from apps.core.errors import scrub_paths


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "[Errno 2] No such file or directory: '/srv/ratc/var/media/watchlist-spool/3/ab12cd34__list.xml'",
            "[Errno 2] No such file or directory: 'list.xml'",
        ),
        ("/tmp/x/model.joblib, line 3: bad", "model.joblib, line 3: bad"),
        ("cannot write /srv/ratc/var/media/intake-spool/12/", "cannot write …"),
        ("see http://127.0.0.1/a/b", "see http://127.0.0.1/a/b"),
        ("1/2/2026 and a/b and 3/4", "1/2/2026 and a/b and 3/4"),
    ],
)
def test_scrub_paths(text, shown):
    assert scrub_paths(text) == shown


def test_a_failed_backtest_keeps_no_path(monkeypatch, world):
    from apps.risk import backtest as lab
    from apps.risk.models import Backtest, Rule, RuleVersion

    rule = Rule.objects.create(owner_agency=world.customs, name="R", state="active")
    version = RuleVersion.objects.create(
        rule=rule, number=1, condition={}, text="origin_country = 'EC'", subject_kind="consignment",
        risk_area="narcotics", weight=70, rationale="test",
    )  # fmt: skip
    backtest = Backtest.objects.create(
        owner_agency=world.customs,
        rule=rule,
        version=version,
        period_start="2026-01-01",
        period_end="2026-02-01",
    )

    def broken(_backtest):
        raise OSError(2, "No such file or directory", "/srv/ratc/var/media/cache/frame.parquet")

    monkeypatch.setattr(lab, "_run", broken)
    lab.run_backtest(backtest.pk)
    backtest.refresh_from_db()
    assert backtest.status == "failed" and "frame.parquet" in backtest.error and "/srv" not in backtest.error
