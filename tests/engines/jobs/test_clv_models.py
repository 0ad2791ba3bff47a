"""The lifetime-value models' mathematics on their own: the stable forms equal the textbook
ones where those can be computed and stay finite where those overflow; degenerate data is
refused in words, in both languages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import hyp2f1

from loom.engines.jobs import clv_models as m
from loom.metamodel.errors import describe_error

PUBLISHED = m.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0)


def textbook_expected(model: m.BgNbd, t: float, x: float, t_x: float, big_t: float) -> float:
    """FHL 2005 eq. 10 as printed: fine for a few purchases, overflows for many."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = t / (alpha + big_t + t)
    bracket = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z)
    alive = 1 + (x > 0) * a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    return (a + b + x - 1) / (a - 1) * bracket / alive


@pytest.mark.parametrize("history", [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86),
                                     (7, 35.0, 38.0), (20, 37.5, 38.86)])
def test_the_stable_form_equals_the_printed_one(history: tuple[float, float, float]) -> None:
    x, t_x, t = (np.array([value], dtype=float) for value in history)
    for horizon in (1.0, 12.86, 52.0):
        found = m.expected_purchases(PUBLISHED, horizon, x, t_x, t)[0]
        assert found == pytest.approx(textbook_expected(PUBLISHED, horizon, *history),
                                      rel=1e-9)


def test_many_purchases_stay_finite() -> None:
    # buying on 300 days in 100 weeks the printed form still computes: both agree; on
    # 3,000 days its terms overflow (inf × 0) while the stable form goes on
    for purchases, printed_works in ((300.0, True), (3000.0, False)):
        x, t_x, t = np.array([purchases]), np.array([100.0]), np.array([100.0])
        expected = m.expected_purchases(PUBLISHED, 52.0, x, t_x, t)[0]
        with np.errstate(all="ignore"):
            printed = textbook_expected(PUBLISHED, 52.0, purchases, 100.0, 100.0)
        assert np.isfinite(printed) == printed_works
        if printed_works:
            assert expected == pytest.approx(printed, rel=1e-8)
        # below the rate they showed (purchases / 100 weeks × 52), since every purchase
        # may be their last, and well above half of it
        assert 0.5 * purchases * 0.52 < expected < purchases * 0.52
        assert 0.99 < m.p_alive(PUBLISHED, x, t_x, t)[0] <= 1.0
        log_likelihood = m.bgnbd_log_likelihood(
            np.array([PUBLISHED.r, PUBLISHED.alpha, PUBLISHED.a, PUBLISHED.b]), x, t_x, t)
        assert np.isfinite(log_likelihood).all()


def test_a_degenerate_drop_out_mix_still_predicts() -> None:
    # a and b huge: nearly everyone shares one drop-out probability (regular monthly
    # buyers); the transformed form overflows there, the printed one converges
    model = m.BgNbd(r=1.21, alpha=2.88, a=133233.0, b=15119327.0, log_likelihood=0.0)
    x, t_x, t = np.array([9.0, 30.0]), np.array([39.0, 8.57]), np.array([42.4, 17.9])
    found = m.expected_purchases(model, 90 / 7, x, t_x, t)
    assert np.isfinite(found).all()
    for position in range(2):
        history = (x[position], t_x[position], t[position])
        assert found[position] == pytest.approx(textbook_expected(model, 90 / 7, *history),
                                                rel=1e-9)


def test_a_long_silence_lowers_p_alive() -> None:
    x = np.array([3.0, 3.0, 3.0])
    alive = m.p_alive(PUBLISHED, x, np.array([38.0, 20.0, 2.0]), np.array([38.86] * 3))
    assert alive[0] > alive[1] > alive[2]
    assert m.p_alive(PUBLISHED, np.array([0.0]), np.array([0.0]), np.array([10.0]))[0] == 1.0


def _buy_till_you_die(rng: np.random.Generator,
                      customers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histories drawn from the BG/NBD story itself (so the fit has an optimum inside the
    parameter space, not at a → ∞): each customer buys at a Gamma-drawn rate and may drop
    out after every purchase with a Beta-drawn chance; three cohorts, days rounded."""
    rate, dropout = rng.gamma(0.8, 1 / 6.0, customers), rng.beta(1.0, 3.0, customers)
    t = rng.choice([30.0, 35.0, 40.0], customers)
    x, t_x = np.zeros(customers), np.zeros(customers)
    for who in range(customers):
        now = rng.exponential(1 / rate[who])
        while now <= t[who]:
            x[who], t_x[who] = x[who] + 1, now
            if rng.random() < dropout[who]:
                break
            now += rng.exponential(1 / rate[who])
    return x, np.round(t_x), t


def test_grouped_histories_fit_as_the_customers_they_stand_for() -> None:
    x, t_x, t = _buy_till_you_die(np.random.default_rng(5), 600)
    one_by_one = m.fit_bgnbd(x, t_x, t, np.ones(600))
    keys, counts = np.unique(np.stack([x, t_x, t], axis=1), axis=0, return_counts=True)
    grouped = m.fit_bgnbd(keys[:, 0], keys[:, 1], keys[:, 2], counts)
    assert len(keys) < 400
    assert grouped.log_likelihood == pytest.approx(one_by_one.log_likelihood, rel=1e-9)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(grouped, name) == pytest.approx(getattr(one_by_one, name), rel=1e-6)


def test_too_few_repeat_buyers_is_said_in_words() -> None:
    x = np.array([0.0] * 50 + [1.0] * 3)
    with pytest.raises(m.ModelDataError) as caught:
        m.fit_bgnbd(x, np.where(x > 0, 5.0, 0.0), np.full(53, 20.0), np.ones(53))
    assert describe_error(caught.value, "en") == (
        "3 of 53 customers bought again in the calibration period; the BG/NBD model needs "
        "at least 10 customers with a repeat purchase")
    assert describe_error(caught.value, "zh-CN") == (
        "校准期内 53 位客户中只有 3 位复购；BG/NBD 模型至少需要 10 位有复购的客户")
    assert caught.value.status == 422


def test_all_equal_spend_is_said_in_words() -> None:
    x = np.array([1.0, 2.0, 4.0])
    with pytest.raises(m.ModelDataError) as caught:
        m.fit_gamma_gamma(x, x * 25.0, np.array([5, 3, 1]))
    assert "every repeat buyer spent the same on average (25.0)" in describe_error(
        caught.value, "en")
    assert "所有复购客户的平均消费额都相同（25.0）" in describe_error(caught.value, "zh-CN")
    with pytest.raises(m.ModelDataError):
        m.fit_gamma_gamma(np.array([]), np.array([]), np.array([]))


def test_the_gradients_are_the_likelihoods_derivatives() -> None:
    rng = np.random.default_rng(9)
    x = rng.integers(0, 12, 300).astype(float)
    t = rng.uniform(5, 40, 300)
    t_x = np.where(x > 0, t * rng.uniform(0, 1, 300), 0.0)
    weights = rng.integers(1, 4, 300).astype(float)
    spent = x > 0
    totals = x[spent] * rng.gamma(4, 10, int(spent.sum()))
    cases = ((m.Histories(x, t_x, t), np.array([0.4, 3.0, 0.9, 2.5]), weights),
             (m.Spends(x[spent], totals), np.array([5.0, 3.5, 20.0]), weights[spent]))
    for model, params, counts in cases:
        value, gradient = model.weighted(params, counts)
        assert value == pytest.approx(float(np.dot(counts, model.log_likelihood(params))),
                                      rel=1e-12)
        for position in range(len(params)):
            step = np.zeros_like(params)
            step[position] = 1e-6 * params[position]
            ahead = model.weighted(params + step, counts)[0]
            behind = model.weighted(params - step, counts)[0]
            numeric = (ahead - behind) / (2 * step[position])
            assert gradient[position] == pytest.approx(numeric, rel=1e-5, abs=1e-6)
