"""Published national figures as scenarios, each with its inputs, kept apart (never blended).

- ``nice-2021``: NICE, NG126 update of 24 November 2021: "about 7,200 women a year" with a
  previous miscarriage and early-pregnancy bleeding could be eligible (England; one report says
  England and Wales; some press printed 1,200 in error).
- ``coomarasamy-2020``: Coomarasamy et al., AJOG 2020;223:167-176: "an additional 8,450 live
  births per year" in the UK (reported by Tommy's as miscarriages prevented).

Neither NICE's resource-impact inputs nor the AJOG paper's calculation could be found in the
material searched (see `Scenario.not_found`). Each scenario therefore takes every input it can
from a citable source and leaves exactly one factor, the share of births whose pregnancy presented
with bleeding, as ``implied``: back-calculated so that the point estimate equals the headline.
Reproducing the headline is then a check of arithmetic and of the other inputs, not independent
corroboration; the implied value itself is the finding to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from earlypath.impact.errors import ParameterError, UnknownScenarioError
from earlypath.impact.model import STOP_16_0_DAYS, evaluate_point
from earlypath.impact.parameters import (
    Beta,
    Fixed,
    LogNormal,
    Parameter,
    ParameterSet,
    Triangular,
)
from earlypath.impact.products import PRODUCTS, REFERENCE_CITATION
from earlypath.impact.trials import (
    COCHRANE_2021_CITATION,
    PRISM_CITATION,
    prism_share_with_previous_miscarriage,
)

ONS_EW_2019 = "ONS, Births in England and Wales: 2019 (released July 2020): 640,370 live births"
ONS_UK_2018 = (
    "ONS, Vital statistics in the UK: live births 2018, 731.21 thousand (as tabulated in "
    "secondary sources; to the nearest 10)"
)
NG126_STOP = "NICE NG126 (2021) recommendation 1.5.3: continue until 16 completed weeks"
IMPLIED_SPREAD = 0.3  # assumed +/-30% triangular spread on an implied factor


@dataclass(frozen=True)
class Headline:
    """The published figure a scenario must reproduce, and how it was rounded."""

    output: str
    value: float
    text: str
    rounding_to: float
    citation: str

    def rounded(self, computed: float) -> float:
        return round(computed / self.rounding_to) * self.rounding_to

    def reproduced_by(self, computed: float) -> bool:
        return self.rounded(computed) == self.value


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    region: str
    headline: Headline
    parameters: ParameterSet
    notes: tuple[str, ...] = field(default_factory=tuple)
    not_found: tuple[str, ...] = field(default_factory=tuple)
    overrides: tuple[str, ...] = field(default_factory=tuple)

    def with_overrides(self, assignments: list[str] | None) -> Scenario:
        """Apply ``name=value`` strings (CLI ``--set``). ``product=<key>`` picks a product;
        a product without a cited price also needs ``pack_price_gbp`` and ``pack_size``."""
        pairs: list[tuple[str, str]] = []
        for raw in assignments or []:
            name, sep, text = raw.partition("=")
            name, text = name.strip(), text.strip()
            if not sep or not name:
                raise ParameterError(f"--set expects name=value, got {raw!r}")
            pairs.append((name, text))
        if not pairs:
            return self
        params = self.parameters
        # a product sets several parameters, so it goes first and explicit values win
        for name, text in pairs:
            if name == "product":
                params = _apply_product(params, text, {n for n, _ in pairs})
        for name, text in pairs:
            if name == "product":
                continue
            params[name]  # raises ParameterError naming the unknown parameter
            try:
                value = float(text.replace("_", ""))
            except ValueError:
                raise ParameterError(f"parameter {name!r} needs a number, got {text!r}") from None
            params = params.with_value(name, value)
        return Scenario(
            self.key,
            self.title,
            self.region,
            self.headline,
            params,
            self.notes,
            self.not_found,
            self.overrides + tuple(f"{n}={t}" for n, t in pairs),
        )


def _apply_product(params: ParameterSet, key: str, also_set: set[str]) -> ParameterSet:
    if key not in PRODUCTS:
        raise ParameterError(
            f"parameter 'product' must be one of {', '.join(PRODUCTS)}, got {key!r}"
        )
    product = PRODUCTS[key]
    note = f"product={key}"
    params = params.with_value("units_per_dose", product.units_per_dose, note)
    if product.pack_price_gbp is None or product.pack_size is None:
        missing = {"pack_price_gbp", "pack_size"} - also_set
        if missing:
            raise ParameterError(
                f"parameter 'product': no cited price for {product.name}; also set "
                + " and ".join(f"{m}=..." for m in sorted(missing))
            )
        return params
    params = params.with_value("pack_price_gbp", product.pack_price_gbp, note)
    return params.with_value("pack_size", product.pack_size, note)


# --- building blocks shared by the scenarios ------------------------------------------------


def _share_previous_miscarriage(note: str) -> Parameter:
    with_prev, everyone = prism_share_with_previous_miscarriage()
    return Parameter(
        "share_previous_miscarriage",
        with_prev / everyone,
        "proportion",
        "share of women with bleeding and an intrauterine pregnancy who have had >= 1 miscarriage",
        "sourced",
        Beta.from_counts(with_prev, everyone),
        citation=f"{PRISM_CITATION}: {with_prev}/{everyone} participants with an outcome",
        note=note,
        minimum=0,
        maximum=1,
    )


def _baseline() -> Parameter:
    return Parameter(
        "baseline_live_birth_rate",
        619 / 886,
        "proportion",
        "live-birth rate without progesterone (placebo arm, >= 1 previous miscarriage)",
        "sourced",
        Beta.from_counts(619, 886),
        citation=f"{PRISM_CITATION}: placebo 619/886",
        minimum=0,
        maximum=1,
    )


def _common_tail(presentation_note: str) -> list[Parameter]:
    ut = PRODUCTS["utrogestan"]
    return [
        Parameter(
            "presentation_gestation_days",
            56.0,
            "days",
            "gestation when treatment starts (presentation with bleeding and scan)",
            "assumed",
            Triangular(42, 56, 84),
            note=presentation_note,
            minimum=0,
            maximum=STOP_16_0_DAYS,
        ),
        Parameter(
            "stop_gestation_days",
            float(STOP_16_0_DAYS),
            "days",
            "gestation on which treatment stops (policy default 16+0; 16+6 would be 118)",
            "sourced",
            Fixed(STOP_16_0_DAYS),
            citation=NG126_STOP,
            note="earlypath policy setting stop_at='16+0'",
            minimum=0,
            maximum=24 * 7,
        ),
        Parameter(
            "units_per_dose",
            float(ut.units_per_dose),
            "capsules per 400 mg dose",
            "Utrogestan 200 mg: two capsules per 400 mg dose",
            "sourced",
            Fixed(ut.units_per_dose),
            citation=REFERENCE_CITATION,
            minimum=1,
            maximum=10,
        ),
        Parameter(
            "pack_price_gbp",
            float(ut.pack_price_gbp or 0),
            "GBP per pack",
            "price of one pack",
            "sourced",
            Fixed(ut.pack_price_gbp or 0),
            citation=REFERENCE_CITATION,
            minimum=0,
            maximum=10_000,
        ),
        Parameter(
            "pack_size",
            float(ut.pack_size or 1),
            "units per pack",
            "units in one pack",
            "sourced",
            Fixed(ut.pack_size or 1),
            citation=REFERENCE_CITATION,
            minimum=1,
            maximum=1_000,
        ),
    ]


def _with_implied_share(
    params: list[Parameter], headline: Headline, implied_note: str
) -> ParameterSet:
    """Insert `share_bleeding`, back-calculated so the point estimate equals the headline.

    Both headline outputs are proportional to share_bleeding, so one evaluation at share 1 gives
    the factor exactly."""
    probe = ParameterSet(
        (
            Parameter(
                "share_bleeding",
                1.0,
                "proportion",
                "probe",
                "assumed",
                Fixed(1.0),
                minimum=0,
                maximum=1,
            ),
            *params,
        )
    )
    per_unit_share = evaluate_point(probe)[headline.output]
    implied = headline.value / per_unit_share
    share = Parameter(
        "share_bleeding",
        implied,
        "proportion",
        "share of births whose pregnancy presented with early-pregnancy bleeding",
        "implied",
        Triangular.around(implied, IMPLIED_SPREAD),
        implied_from=f"{headline.text} ({headline.citation})",
        note=f"{implied_note} Spread +/-{IMPLIED_SPREAD:.0%} triangular is assumed.",
        minimum=0,
        maximum=1,
    )
    return ParameterSet((share, *params))


# --- the scenarios ----------------------------------------------------------------------------


def nice_2021() -> Scenario:
    headline = Headline(
        "eligible_women",
        7200,
        "about 7,200 women a year could be eligible",
        100,
        "NICE press release and news reports, 24 November 2021 (NG126 update)",
    )
    params = [
        Parameter(
            "births_per_year",
            640_370.0,
            "live births a year",
            "live births, England and Wales, 2019",
            "sourced",
            Fixed(640_370),
            citation=ONS_EW_2019,
            note="NICE's figure is reported for England (one report: England and Wales); an "
            "England-only count was not verified here, so the scope difference sits in the "
            "implied share.",
            minimum=0,
            maximum=5e6,
        ),
        Parameter(
            "share_scan_confirmed_iup",
            1.0,
            "proportion",
            "share of those presenting with bleeding whose intrauterine pregnancy is confirmed by scan",
            "assumed",
            Fixed(1.0),
            note="not stated separately by NICE; folded into the implied share_bleeding",
            minimum=0,
            maximum=1,
        ),
        _share_previous_miscarriage(
            "NICE's own figure for this share was not found; PRISM's participants are used."
        ),
        Parameter(
            "uptake",
            1.0,
            "proportion",
            "share of eligible women who are treated",
            "assumed",
            Fixed(1.0),
            note="NICE's figure counts eligible women, so uptake does not affect it",
            minimum=0,
            maximum=1,
        ),
        _baseline(),
        Parameter(
            "relative_risk",
            1.08,
            "ratio",
            "relative risk of live birth with progesterone (>= 1 previous miscarriage)",
            "sourced",
            LogNormal.from_ci(1.08, 1.02, 1.14),
            citation=f"{COCHRANE_2021_CITATION}: RR 1.08 (95% CI 1.02 to 1.14)",
            note="NICE published no births figure; additional births here are earlypath's "
            "computation from the evidence NICE's committee reviewed.",
            minimum=0.1,
            maximum=10,
        ),
        *_common_tail("PRISM treated from presentation; a typical presentation at 8+0 is assumed"),
    ]
    return Scenario(
        key="nice-2021",
        title="NICE NG126 update, November 2021: women eligible a year",
        region="England (reported; one report says England and Wales)",
        headline=headline,
        parameters=_with_implied_share(
            params,
            headline,
            "NICE's resource-impact inputs were not found; this is the share that makes "
            "births x share x previous-miscarriage share equal 7,200.",
        ),
        notes=(
            "NICE's headline is a count of eligible women, not of births gained.",
            "Some press printed 1,200 in error; NICE's own figure is 7,200.",
        ),
        not_found=(
            "NICE resource impact statement/report for the November 2021 NG126 update "
            "(population base, share with bleeding, share with a previous miscarriage)",
        ),
    )


def coomarasamy_2020() -> Scenario:
    headline = Headline(
        "additional_live_births",
        8450,
        "an additional 8,450 live births per year in the UK",
        10,
        "Coomarasamy A et al. Micronized vaginal progesterone to prevent miscarriage: a critical "
        "evaluation of randomized evidence. Am J Obstet Gynecol 2020;223:167-176",
    )
    params = [
        Parameter(
            "births_per_year",
            731_210.0,
            "live births a year",
            "live births, UK, 2018",
            "sourced",
            Fixed(731_210),
            citation=ONS_UK_2018,
            note="the paper's own population base was not found; the UK count for the year "
            "before publication is used.",
            minimum=0,
            maximum=5e6,
        ),
        Parameter(
            "share_scan_confirmed_iup",
            1.0,
            "proportion",
            "share of those presenting with bleeding whose intrauterine pregnancy is confirmed by scan",
            "assumed",
            Fixed(1.0),
            note="not found in the paper; folded into the implied share_bleeding",
            minimum=0,
            maximum=1,
        ),
        _share_previous_miscarriage(
            "The paper's own figure for this share was not found; PRISM's participants are used."
        ),
        Parameter(
            "uptake",
            1.0,
            "proportion",
            "share of eligible women who are treated",
            "assumed",
            Fixed(1.0),
            note="'implementing this treatment strategy' is read as treating every eligible woman",
            minimum=0,
            maximum=1,
        ),
        _baseline(),
        Parameter(
            "relative_risk",
            1.09,
            "ratio",
            "relative risk of live birth with progesterone (>= 1 previous miscarriage)",
            "sourced",
            LogNormal.from_ci(1.09, 1.03, 1.15),
            citation=f"{PRISM_CITATION}: adjusted RR 1.09 (95% CI 1.03 to 1.15), the estimate the "
            "AJOG paper reports (75% vs 70%)",
            minimum=0.1,
            maximum=10,
        ),
        *_common_tail(
            "PRISM treated from presentation to 16 weeks; a typical presentation at 8+0 is assumed"
        ),
    ]
    return Scenario(
        key="coomarasamy-2020",
        title="Coomarasamy et al. 2020 (AJOG): additional live births a year, UK",
        region="United Kingdom",
        headline=headline,
        parameters=_with_implied_share(
            params,
            headline,
            "The paper's population inputs were not found; this is the share that makes the "
            "model's additional births equal 8,450.",
        ),
        notes=(
            "Tommy's reported this figure as 'miscarriages prevented'; the paper counts "
            "additional live births (>= 34 weeks in PRISM).",
            "The implied number of women treated is far larger than NICE's 7,200 eligible: "
            "the two figures rest on different populations and must not be combined.",
        ),
        not_found=(
            "AJOG 2020 full text: the population base, share with bleeding, share with a "
            "previous miscarriage and uptake behind 8,450 (only the headline and the trial "
            "effect, 75% vs 70%, RR 1.09, were found in the material searched)",
        ),
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "nice-2021": nice_2021,
    "coomarasamy-2020": coomarasamy_2020,
}


def get_scenario(key: str) -> Scenario:
    try:
        return SCENARIOS[key]()
    except KeyError:
        raise UnknownScenarioError(
            f"unknown scenario {key!r}; known scenarios: {', '.join(SCENARIOS)}"
        ) from None
