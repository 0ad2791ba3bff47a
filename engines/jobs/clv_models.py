"""Buy-till-you-die models of customer lifetime value, fitted by maximum likelihood.

- **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while
  alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase they drop
  out with probability p ~ Beta(a, b). From (x repeat purchases, t_x the time of the last
  one, T the time since the first) it gives the probability the customer is alive and the
  purchases expected in the next t.
- **Gamma-Gamma** (Fader & Hardie, "The Gamma-Gamma model of monetary value"): a
  customer's spend per transaction averages ν ~ Gamma(q, γ), each transaction
  ~ Gamma(p, ν). From x repeat purchases and their total S it gives the expected spend.

The inputs are *groups*: the distinct (x, t_x, T) and (x, S) with how many customers share
each, as the database summarises them, so a million customers cost what their distinct
histories cost. Everything is computed in log space (``gammaln``, ``betaln``,
``logaddexp``), and the hypergeometric function of the conditional expectation is taken in
its Euler-transformed form, whose terms stay bounded however many purchases a customer
made (the plain form overflows past a few hundred).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1

from loom.metamodel.errors import LoomError
from loom.metamodel.i18n import message, register_messages

Array = NDArray[np.float64]
# Below this many customers with a repeat purchase the fit says nothing a person can use.
MIN_REPEAT_BUYERS = 10

register_messages({
    "clv_too_few_repeat_buyers": {
        "en": "{repeaters} of {customers} customers bought again in the calibration period; "
              "the BG/NBD model needs at least {needed} customers with a repeat purchase",
        "zh-CN": "校准期内 {customers} 位客户中只有 {repeaters} 位复购；BG/NBD 模型至少需要 "
                 "{needed} 位有复购的客户",
    },
    "clv_spend_all_equal": {
        "en": "every repeat buyer spent the same on average ({spend}); the Gamma-Gamma "
              "spend model needs spend that varies between customers",
        "zh-CN": "所有复购客户的平均消费额都相同（{spend}）；Gamma-Gamma 消费模型需要客户之间"
                 "有差异的消费额",
    },
    "clv_spend_no_mean": {
        "en": "the fitted spend model has q = {q} ≤ 1, so its expected spend is infinite; "
              "a few very large orders dominate the spend data",
        "zh-CN": "拟合的消费模型 q = {q} ≤ 1，预期消费额为无穷大；消费数据被少数超大订单主导",
    },
    "clv_fit_failed": {
        "en": "the {model} model did not converge ({reason})",
        "zh-CN": "{model} 模型未能收敛（{reason}）",
    },
})


class ModelDataError(LoomError):
    """The data cannot support the model: said in words, never a traceback."""

    status = 422
    type_slug = "model-data-insufficient"
    title = "The data cannot support the model"


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def public(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b,
                "log_likelihood": self.log_likelihood}


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float

    def public(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma,
                "log_likelihood": self.log_likelihood}

    def expected_spend(self, x: Array, total: Array) -> Array:
        """E[spend per transaction | x repeat purchases totalling ``total``]: the
        population mean γp/(q−1) pulled towards the customer's own mean x̄ = total/x."""
        return (self.gamma * self.p + self.p * total) / (self.p * x + self.q - 1)


def _as_arrays(*columns: Any) -> list[Array]:
    return [np.asarray(column, dtype=np.float64) for column in columns]


def bgnbd_log_likelihood(params: Array, x: Array, t_x: Array, t: Array) -> Array:
    """ln L per customer (Fader, Hardie & Lee 2005, eq. 6), in log space throughout."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    still = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
    repeat = x > 0
    gone = np.full_like(x, -np.inf)
    xr = x[repeat]
    gone[repeat] = (betaln(a + 1, b + xr - 1) - betaln(a, b)
                    - (r + xr) * np.log(alpha + t_x[repeat]))
    return common + np.logaddexp(still, gone)


def gamma_gamma_log_likelihood(params: Array, x: Array, total: Array) -> Array:
    """ln f(x̄ | p, q, γ; x) per repeat buyer, written with the total S = x·x̄ (the
    Jacobian term ln x keeps it the density of the mean, as the published figures use)."""
    p, q, gamma = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
            + (px - 1) * np.log(total) + np.log(x) - (px + q) * np.log(gamma + total))


def _fit(name: str, log_likelihood: Any, start: Array, weights: Array) -> tuple[Array, float]:
    """Maximise Σ w·ln L over positive parameters (optimised as their logarithms)."""
    total = float(weights.sum())

    def objective(log_params: Array) -> float:
        values = log_likelihood(np.exp(log_params))
        found = -float(np.dot(weights, values)) / total
        return found if np.isfinite(found) else 1e300

    best = minimize(objective, np.log(start), method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000,
                             "maxfev": 40000, "adaptive": True})
    polished = minimize(objective, best.x, method="BFGS", options={"gtol": 1e-10})
    if polished.fun <= best.fun:
        best = polished
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise ModelDataError(message("clv_fit_failed", model=name, reason=str(best.message)))
    return np.exp(best.x), -best.fun * total


def fit_bgnbd(x: Any, t_x: Any, t: Any, weights: Any) -> BgNbd:
    """Fit on the distinct histories (x, t_x, T) and how many customers share each."""
    x, t_x, t, weights = _as_arrays(x, t_x, t, weights)
    customers, repeaters = int(weights.sum()), int(weights[x > 0].sum())
    if repeaters < MIN_REPEAT_BUYERS:
        raise ModelDataError(message("clv_too_few_repeat_buyers", repeaters=repeaters,
                                     customers=customers, needed=MIN_REPEAT_BUYERS))
    # start from a moment guess: r/α ≈ the mean purchase rate, a drop-out of a few percent
    rate = max(float(np.dot(weights, x) / max(np.dot(weights, t), 1e-9)), 1e-6)
    start = np.array([1.0, 1.0 / rate, 1.0, 3.0])
    params, log_likelihood = _fit(
        "BG/NBD", lambda p: bgnbd_log_likelihood(p, x, t_x, t), start, weights)
    return BgNbd(*(float(value) for value in params), log_likelihood=log_likelihood)


def fit_gamma_gamma(x: Any, total: Any, weights: Any, *, places: int = 2) -> GammaGamma:
    """Fit on the distinct (x, S) of the repeat buyers (x > 0, S > 0) and their counts."""
    x, total, weights = _as_arrays(x, total, weights)
    mean = total / x
    if len(mean) == 0 or np.ptp(mean) <= 0:
        spend = round(float(mean[0]), places) if len(mean) else 0
        raise ModelDataError(message("clv_spend_all_equal", spend=spend))
    # start from the method of moments on the customers' mean spend
    average = float(np.dot(weights, mean) / weights.sum())
    spread = float(np.dot(weights, (mean - average) ** 2) / weights.sum())
    q0 = max(2.0 + average ** 2 / max(spread, 1e-9), 2.5)
    start = np.array([2.0, q0, average * (q0 - 1) / 2.0])
    params, log_likelihood = _fit(
        "Gamma-Gamma", lambda p: gamma_gamma_log_likelihood(p, x, total), start, weights)
    found = GammaGamma(*(float(value) for value in params), log_likelihood=log_likelihood)
    if found.q <= 1:
        raise ModelDataError(message("clv_spend_no_mean", q=round(found.q, 4)))
    return found


def p_alive(model: BgNbd, x: Array, t_x: Array, t: Array) -> Array:
    """P(alive | x, t_x, T) = 1 / (1 + [x>0]·a/(b+x−1)·((α+T)/(α+t_x))^(r+x))."""
    x, t_x, t = _as_arrays(x, t_x, t)
    log_odds = np.full_like(x, -np.inf)
    repeat = x > 0
    xr = x[repeat]
    log_odds[repeat] = (np.log(model.a) - np.log(model.b + xr - 1)
                        + (model.r + xr) * (np.log(model.alpha + t[repeat])
                                            - np.log(model.alpha + t_x[repeat])))
    return expit(-log_odds)


def expected_purchases(model: BgNbd, horizon: float, x: Array, t_x: Array, t: Array,
                       alive: Array | None = None) -> Array:
    """E[purchases in the next ``horizon`` | x, t_x, T] (FHL 2005, eq. 10).

    The term ((α+T)/(α+T+t))^(r+x)·₂F₁(r+x, b+x; a+b+x−1; z), z = t/(α+T+t), is taken by
    Euler's transformation as (1−z)^(a−1)·₂F₁(a+b−1−r, a−1; a+b+x−1; z): the same value,
    with bounded parameters instead of ones growing with x."""
    x, t_x, t = _as_arrays(x, t_x, t)
    if horizon <= 0:
        return np.zeros_like(x)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = horizon / (alpha + t + horizon)
    c = a + b + x - 1
    tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    alive = p_alive(model, x, t_x, t) if alive is None else alive
    return c / (a - 1) * (1 - tail) * alive


def discounted_purchases(model: BgNbd, months: int, month: float, monthly_rate: float,
                         x: Array, t_x: Array, t: Array) -> Array:
    """Σ_{i=1..months} (E[purchases by month i] − E[by month i−1]) / (1+d)^i: the
    expected purchases of the coming months, each discounted to today. Times the
    expected spend, it is the customer's value over ``months`` months."""
    x, t_x, t = _as_arrays(x, t_x, t)
    alive = p_alive(model, x, t_x, t)
    total, before = np.zeros_like(x), np.zeros_like(x)
    for i in range(1, months + 1):
        by_now = expected_purchases(model, i * month, x, t_x, t, alive)
        total += (by_now - before) / (1 + monthly_rate) ** i
        before = by_now
    return total


def spend_frequency_correlation(x: Any, total: Any, weights: Any) -> float | None:
    """Pearson correlation of repeat purchases and mean spend among repeat buyers: the
    Gamma-Gamma model assumes the two independent, so a strong one is worth a look."""
    x, total, weights = _as_arrays(x, total, weights)
    if len(x) < 2:
        return None
    mean = total / x
    found = np.cov(x, mean, aweights=weights)
    denominator = float(np.sqrt(found[0, 0] * found[1, 1]))
    return float(found[0, 1] / denominator) if denominator > 0 else None
