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
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from loom.metamodel.errors import LoomError
from loom.metamodel.i18n import message, register_messages

Array = NDArray[np.float64]
# Below this many customers with a repeat purchase the fit says nothing a person can use.
MIN_REPEAT_BUYERS = 10
# The fit stops when the mean log-likelihood's gradient (in log-parameters) is this small:
# the parameters are then right to about seven digits.
GRADIENT_TOLERANCE = 1e-8
STALLED_GRADIENT = 1e-6

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
    "clv_not_finite": {
        "en": "the fitted {model} model gives no finite prediction for {count} customers "
              "(parameters {params})",
        "zh-CN": "拟合的 {model} 模型无法为 {count} 位客户给出有限的预测值（参数 {params}）",
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


class _Coded:
    """A column as its distinct values and each row's index into them: the special
    functions are then evaluated once per distinct value (a few hundred purchase counts,
    at most a few thousand days), not once per row."""

    def __init__(self, values: Array) -> None:
        self.values, self.index = np.unique(values, return_inverse=True)


class Histories:
    """The BG/NBD likelihood over (x, t_x, T) rows, set up once for the many evaluations
    of a fit."""

    def __init__(self, x: Array, t_x: Array, t: Array) -> None:
        self.x, self.t_x, self.t = _Coded(x), _Coded(t_x), _Coded(t)
        self.repeat = self.x.values > 0

    def log_likelihood(self, params: Array) -> Array:
        """ln L per row (Fader, Hardie & Lee 2005, eq. 6), in log space throughout."""
        r, alpha, a, b = params
        x = self.x.values
        power = (r + x)[self.x.index]
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        still = betaln(a, b + x) - betaln(a, b)
        gone = np.full_like(x, -np.inf)
        gone[self.repeat] = betaln(a + 1, b + x[self.repeat] - 1) - betaln(a, b)
        still_rows = still[self.x.index] - power * np.log(alpha + self.t.values)[self.t.index]
        gone_rows = gone[self.x.index] - power * np.log(alpha + self.t_x.values)[self.t_x.index]
        return common[self.x.index] + np.logaddexp(still_rows, gone_rows)

    def weighted(self, params: Array, weights: Array) -> tuple[float, Array]:
        """Σ w·ln L and its gradient in (r, α, a, b), from the digamma derivatives of the
        same terms (each row's two terms weighted by their share of its likelihood)."""
        r, alpha, a, b = params
        x, ix = self.x.values, self.x.index
        log_t = np.log(alpha + self.t.values)[self.t.index]
        log_tx = np.log(alpha + self.t_x.values)[self.t_x.index]
        power = (r + x)[ix]
        still = (betaln(a, b + x) - betaln(a, b))[ix] - power * log_t
        gone_x = np.full_like(x, -np.inf)
        gone_x[self.repeat] = betaln(a + 1, b + x[self.repeat] - 1) - betaln(a, b)
        gone = gone_x[ix] - power * log_tx
        mixed = np.logaddexp(still, gone)
        common = (gammaln(r + x) - gammaln(r) + r * np.log(alpha))[ix]
        share_still, share_gone = np.exp(still - mixed), np.exp(gone - mixed)
        ab, abx = digamma(a + b), digamma(a + b + x)
        d_still_a, d_still_b = (ab - abx)[ix], (digamma(b + x) - abx - digamma(b) + ab)[ix]
        d_gone_a = (digamma(a + 1) - abx - digamma(a) + ab)[ix]
        d_gone_b = np.zeros_like(x)
        d_gone_b[self.repeat] = (digamma(b + x[self.repeat] - 1) - abx[self.repeat]
                                 - digamma(b) + ab)
        d_gone_b = d_gone_b[ix]
        gradient = np.array([
            np.dot(weights, (digamma(r + x) - digamma(r))[ix] + np.log(alpha)
                   - share_still * log_t - share_gone * log_tx),
            np.dot(weights, r / alpha - power * (share_still / (alpha + self.t.values)[self.t.index]
                                                 + share_gone
                                                 / (alpha + self.t_x.values)[self.t_x.index])),
            np.dot(weights, share_still * d_still_a + share_gone * d_gone_a),
            np.dot(weights, share_still * d_still_b + share_gone * d_gone_b)])
        return float(np.dot(weights, common + mixed)), gradient


def bgnbd_log_likelihood(params: Array, x: Array, t_x: Array, t: Array) -> Array:
    """ln L per customer of the BG/NBD model."""
    return Histories(*_as_arrays(x, t_x, t)).log_likelihood(params)


class Spends:
    """The Gamma-Gamma likelihood over (x, S) rows of repeat buyers, S = x·x̄ the spend of
    their repeat purchases, set up once for the many evaluations of a fit."""

    def __init__(self, x: Array, total: Array) -> None:
        self.x, self.total = _Coded(x), total
        self.rows_x = x
        self.log_total = np.log(total)

    def _parts(self, params: Array) -> tuple[Array, Array, Array]:
        """Per row: p·x, ln(γ + S), and ln Γ(px + q) − ln Γ(px) (per distinct x)."""
        p, q, gamma = params
        px = p * self.x.values
        return (px[self.x.index], np.log(gamma + self.total),
                (gammaln(px + q) - gammaln(px))[self.x.index])

    def log_likelihood(self, params: Array) -> Array:
        """ln f(x̄ | p, q, γ; x) per row, written with the total (the Jacobian term ln x
        keeps it the density of the mean, as the published figures use)."""
        _, q, gamma = params
        px, log_sum, gammas = self._parts(params)
        return (gammas - gammaln(q) + q * np.log(gamma) + (px - 1) * self.log_total
                + np.log(self.rows_x) - (px + q) * log_sum)

    def weighted(self, params: Array, weights: Array) -> tuple[float, Array]:
        """Σ w·ln f and its gradient in (p, q, γ)."""
        p, q, gamma = params
        px, log_sum, gammas = self._parts(params)
        ux = p * self.x.values
        both, alone = digamma(ux + q)[self.x.index], digamma(ux)[self.x.index]
        value = (np.dot(weights, gammas + (px - 1) * self.log_total - (px + q) * log_sum)
                 + float(weights.sum()) * (q * np.log(gamma) - gammaln(q))
                 + float(np.dot(weights, np.log(self.rows_x))))
        gradient = np.array([
            np.dot(weights, self.rows_x * (both - alone + self.log_total - log_sum)),
            np.dot(weights, both - log_sum) + float(weights.sum()) * (np.log(gamma)
                                                                       - digamma(q)),
            float(weights.sum()) * q / gamma - np.dot(weights, (px + q)
                                                      / (gamma + self.total))])
        return float(value), gradient


def gamma_gamma_log_likelihood(params: Array, x: Array, total: Array) -> Array:
    """ln f per repeat buyer of the Gamma-Gamma model."""
    return Spends(*_as_arrays(x, total)).log_likelihood(params)


def _fit(name: str, weighted: Any, start: Array, weights: Array) -> tuple[Array, float]:
    """Maximise Σ w·ln L over positive parameters, optimised as their logarithms with the
    exact gradient (so the optimum is found to the precision of the figures)."""
    total = float(weights.sum())

    def objective(log_params: Array) -> tuple[float, Array]:
        with np.errstate(all="ignore"):  # a trial step far out: answered as "worse"
            params = np.exp(log_params)
            value, gradient = weighted(params, weights)
        if not np.isfinite(value) or not np.isfinite(gradient).all():
            return 1e300, np.zeros_like(log_params)
        return -value / total, -gradient * params / total

    best = minimize(objective, np.log(start), jac=True, method="BFGS",
                    options={"gtol": GRADIENT_TOLERANCE, "maxiter": 2000})
    # "precision loss" at a vanishing gradient is the optimum, found to the float's limit
    if not best.success and not np.abs(best.jac).max() < STALLED_GRADIENT:
        # a stall far from the optimum: a simplex search, then quasi-Newton again
        searched = minimize(lambda point: objective(point)[0], best.x, method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-12, "maxfev": 20000,
                                     "adaptive": True})
        polished = minimize(objective, searched.x, jac=True, method="BFGS",
                            options={"gtol": GRADIENT_TOLERANCE, "maxiter": 2000})
        best = min((best, searched, polished), key=lambda found: float(found.fun))
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise ModelDataError(message("clv_fit_failed", model=name, reason=str(best.message)))
    return np.exp(best.x), float(-best.fun * total)


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
    params, log_likelihood = _fit("BG/NBD", Histories(x, t_x, t).weighted, start, weights)
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
    params, log_likelihood = _fit("Gamma-Gamma", Spends(x, total).weighted, start, weights)
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
    with bounded parameters instead of ones growing with x. Where that overflows — when
    the fit makes a and b huge (nearly everyone shares one drop-out probability) — the
    printed form, whose series then converges quickly, gives it instead."""
    x, t_x, t = _as_arrays(x, t_x, t)
    if horizon <= 0:
        return np.zeros_like(x)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = horizon / (alpha + t + horizon)
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        lost = ~np.isfinite(tail)
        if lost.any():
            xl, zl = x[lost], z[lost]
            tail[lost] = np.exp((r + xl) * np.log1p(-zl)) * hyp2f1(r + xl, b + xl, c[lost], zl)
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
