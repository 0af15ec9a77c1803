"""The soak's summary: growth while the histories fill, growth after, and the last half's slope."""

import pytest

from rnnviz.bench.soak import SETTLE_MINUTES, summarise


def test_summary_separates_filling_from_later_growth():
    settle = SETTLE_MINUTES * 60
    # 20 MB while the histories fill, then flat for the rest of an hour, sampled every 10 s
    samples = [(t, 100.0 + 20.0 * min(t, settle) / settle, 10 * int(t)) for t in range(0, 3601, 10)]
    summary = summarise(samples)
    assert summary["minutes"] == pytest.approx(60.0)
    assert summary["iterations"] == 36000
    assert summary[f"memory growth over the first {SETTLE_MINUTES:g} min MB"] == pytest.approx(20.0)
    assert summary[f"memory growth after {SETTLE_MINUTES:g} min MB"] == pytest.approx(0.0)
    assert summary["last half's slope MB per hour (flat: ~0)"] == pytest.approx(0.0, abs=1e-9)


def test_a_leak_shows_as_a_slope():
    samples = [(t, 100.0 + 6.0 * t / 3600, t) for t in range(0, 3601, 10)]   # 6 MB an hour
    summary = summarise(samples)
    assert summary["last half's slope MB per hour (flat: ~0)"] == pytest.approx(6.0)
    assert summary[f"memory growth after {SETTLE_MINUTES:g} min MB"] == pytest.approx(5.5)
