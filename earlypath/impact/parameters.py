"""Named model inputs: value, unit, provenance, citation, and a distribution for uncertainty.

Provenance is one of:
- ``sourced``: the value comes from a cited publication or official statistic;
- ``implied``: back-calculated from a published headline figure (``implied_from`` says which),
  because the publication's own input could not be found;
- ``assumed``: a modelling choice (ours or the user's via ``--set``), stated as such.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Literal, Protocol

import numpy as np

from earlypath.impact.errors import ParameterError

Provenance = Literal["sourced", "implied", "assumed"]
PROVENANCES: tuple[Provenance, ...] = ("sourced", "implied", "assumed")
_Z95 = NormalDist().inv_cdf(0.975)


class Distribution(Protocol):
    """Something that draws n values with a numpy Generator and has named quantiles."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...

    def quantile(self, q: float) -> float: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Fixed:
    value: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, float(self.value))

    def quantile(self, q: float) -> float:
        return float(self.value)

    def describe(self) -> str:
        return "fixed"


@dataclass(frozen=True)
class Beta:
    """Beta(alpha, beta), for proportions. `from_counts(x, n)` gives Beta(x, n - x)."""

    alpha: float
    beta: float

    @classmethod
    def from_counts(cls, x: int, n: int) -> Beta:
        return cls(float(x), float(n - x))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.beta(self.alpha, self.beta, n)

    def quantile(self, q: float) -> float:
        # normal approximation on the logit scale is accurate for the large counts used here,
        # and keeps scipy out of the dependencies
        m = self.alpha / (self.alpha + self.beta)
        var = (
            self.alpha * self.beta / ((self.alpha + self.beta) ** 2 * (self.alpha + self.beta + 1))
        )
        sd_logit = math.sqrt(var) / (m * (1 - m))
        z = NormalDist().inv_cdf(q)
        logit = math.log(m / (1 - m)) + z * sd_logit
        return 1 / (1 + math.exp(-logit))

    def describe(self) -> str:
        return f"beta({self.alpha:g}, {self.beta:g})"


@dataclass(frozen=True)
class LogNormal:
    """Lognormal with median exp(mu) and log-scale sd sigma; `from_ci` fits a published 95% CI."""

    mu: float
    sigma: float

    @classmethod
    def from_ci(cls, point: float, low: float, high: float) -> LogNormal:
        sigma = (math.log(high) - math.log(low)) / (2 * _Z95)
        return cls(math.log(point), sigma)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)

    def quantile(self, q: float) -> float:
        return math.exp(self.mu + NormalDist().inv_cdf(q) * self.sigma)

    def describe(self) -> str:
        return f"lognormal(median {math.exp(self.mu):.4g}, log-sd {self.sigma:.4g})"


@dataclass(frozen=True)
class Triangular:
    low: float
    mode: float
    high: float

    @classmethod
    def around(cls, value: float, spread: float) -> Triangular:
        """Symmetric triangle value x (1 - spread, 1, 1 + spread)."""
        return cls(value * (1 - spread), value, value * (1 + spread))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.low == self.high:
            return np.full(n, float(self.mode))
        return rng.triangular(self.low, self.mode, self.high, n)

    def quantile(self, q: float) -> float:
        a, c, b = self.low, self.mode, self.high
        if a == b:
            return float(c)
        fc = (c - a) / (b - a)
        if q < fc:
            return a + math.sqrt(q * (b - a) * (c - a))
        return b - math.sqrt((1 - q) * (b - a) * (b - c))

    def describe(self) -> str:
        return f"triangular({self.low:.4g}, {self.mode:.4g}, {self.high:.4g})"


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def quantile(self, q: float) -> float:
        return self.low + q * (self.high - self.low)

    def describe(self) -> str:
        return f"uniform({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Parameter:
    """One named input. `value` is the point estimate the scenario's headline is computed from."""

    name: str
    value: float
    unit: str
    description: str
    provenance: Provenance
    distribution: Distribution
    citation: str = ""
    implied_from: str = ""
    note: str = ""
    minimum: float = -math.inf
    maximum: float = math.inf

    def __post_init__(self) -> None:
        if self.provenance not in PROVENANCES:
            raise ParameterError(f"parameter {self.name!r}: unknown provenance {self.provenance!r}")
        if self.provenance == "sourced" and not self.citation:
            raise ParameterError(f"parameter {self.name!r} is marked sourced but has no citation")
        if self.provenance == "implied" and not self.implied_from:
            raise ParameterError(
                f"parameter {self.name!r} is marked implied but does not say what it is implied from"
            )
        self.check(self.value)

    def check(self, value: float) -> None:
        if not math.isfinite(value):
            raise ParameterError(f"parameter {self.name!r} must be a finite number, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise ParameterError(
                f"parameter {self.name!r} must be between {self.minimum:g} and {self.maximum:g} "
                f"({self.unit}), got {value:g}"
            )

    @property
    def uncertain(self) -> bool:
        return not isinstance(self.distribution, Fixed)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        # clip to the allowed range so that a wide assumed spread cannot produce impossible values
        return np.clip(self.distribution.sample(rng, n), self.minimum, self.maximum)

    def overridden(self, value: float, note: str = "set by the user") -> Parameter:
        """The same parameter fixed at `value`, provenance `assumed` (the user's choice)."""
        self.check(value)
        return replace(
            self,
            value=float(value),
            provenance="assumed",
            distribution=Fixed(float(value)),
            citation="",
            implied_from="",
            note=f"{note} (was {self.value:g}, {self.provenance})",
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "description": self.description,
            "provenance": self.provenance,
            "citation": self.citation,
            "implied_from": self.implied_from,
            "note": self.note,
            "distribution": self.distribution.describe(),
            "interval_95": [self.distribution.quantile(0.025), self.distribution.quantile(0.975)],
        }


@dataclass(frozen=True)
class ParameterSet:
    """An ordered, name-indexed collection of parameters."""

    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        if len(names) != len(set(names)):
            raise ParameterError(f"duplicate parameter names in {names}")

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError(
            f"unknown parameter {name!r}; known parameters: {', '.join(self.names)}"
        )

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def point(self) -> dict[str, float]:
        return {p.name: p.value for p in self.parameters}

    def with_value(self, name: str, value: float, note: str = "set by the user") -> ParameterSet:
        old = self[name]
        return ParameterSet(
            tuple(old.overridden(value, note) if p.name == name else p for p in self.parameters)
        )

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Independent draws for every parameter, in declaration order (reproducible by seed)."""
        return {p.name: p.sample(rng, n) for p in self.parameters}
