"""The scenario language: the structure of a scenario file as typed models.

These pydantic models are the one definition of the format. The loader
(:mod:`sim.scenario`) validates every resolved scenario with them, and
``alliance-sim schema`` prints their JSON Schema for editors. Checks that need the
whole scenario (does this actor exist? is this month inside the run?) live in the
loader; this module holds what a single value must look like.

A number anywhere a parameter is expected may be written three ways: a bare number,
a documented number ``{value: 0.3, source: ..., reason: ...}``, or a distribution
``{dist: beta, a: 2, b: 5}`` drawn once per replication.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    model_validator,
)

from sim.months import MONTH_PATTERN

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Positive = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]


def _integral(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer; accept it here too so the two agree.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_integral), Field(strict=True, ge=0)]
PositiveCount = Annotated[int, BeforeValidator(_integral), Field(strict=True, ge=1)]
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
Month = Annotated[str, Field(pattern=MONTH_PATTERN)]
MonthOrOffset = Annotated[
    Annotated[Month, Tag("date")] | Annotated[Count, Tag("offset")],
    Discriminator(
        lambda value: "date" if isinstance(value, str) else "offset",
        custom_error_type="month",
        custom_error_message="expected a month as YYYY-MM or a number of months",
    ),
]
Text = Annotated[str, Field(min_length=1)]

# Parameters of a channel that scenario events may change, and their admissible ranges.
CHANNEL_PARAMETERS: dict[str, tuple[float | None, float | None]] = {
    "threshold": (0.0, 1.0),
    "emergence": (0.0, 1.0),
    "growth": (0.0, 1.0),
    "wind_down": (1.0, 600.0),
    "lock_in_slowdown": (0.0, None),
    "noise": (0.0, None),
    "rupture_floor": (0.0, 1.0),
    "rupture_decision": (0.0, 1.0),
    "rupture_steepness": (0.0, None),
    "lock_in_protection": (0.0, 1.0),
    "lock_in_accrual": (0.0, 1.0),
    "lock_in_max": (0.0, 1.0),
    "ceiling": (0.0, 1.0),
    "lock_in": (0.0, 1.0),
}


class Closed(BaseModel):
    """A mapping whose keys are all known: an unknown key is an error, not ignored.

    The base of every model of the scenario and sweep languages.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(Closed):
    """Where a number comes from: its meaning, and its source or the reason for its value."""

    meaning: Text | None = Field(None, description="What the number means, in one line.")
    source: Text | None = Field(None, description="Where the number comes from, with a date.")
    reason: Text | None = Field(None, description="Why the number has this value.")


class Documented(Provenance):
    """A number with its meaning and its source or reason, and the range of its uncertainty.

    ``judgement: [low, high]`` is the range a modeller judges the number to lie in (or
    the range its source gives). Runs draw the number once per replication from the
    triangular distribution on that range with its mode at ``value``, so forecasts carry
    the uncertainty of every hand-set number; ``--fixed-parameters`` runs use ``value``.
    """

    value: Number
    judgement: tuple[Number, Number] | None = Field(
        None, description="[low, high]: the range of the number's uncertainty."
    )

    @model_validator(mode="after")
    def _inside(self) -> Documented:
        if self.judgement is not None:
            low, high = self.judgement
            if low > high:
                raise ValueError(
                    f"judgement [{low:g}, {high:g}] has its low end above its high end: "
                    f"write [{high:g}, {low:g}]"
                )
            if not low <= self.value <= high:
                raise ValueError(f"judgement [{low:g}, {high:g}] must contain the value")
        return self


class Normal(Provenance):
    """Normal distribution."""

    dist: Literal["normal"]
    mean: Number
    sd: Positive


class TruncatedNormal(Provenance):
    """Normal distribution truncated to [low, high]."""

    dist: Literal["truncnorm"]
    mean: Number
    sd: Positive
    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self) -> TruncatedNormal:
        if not self.low < self.high:
            raise ValueError("truncnorm needs low < high")
        return self


class Uniform(Provenance):
    """Uniform distribution on [low, high]."""

    dist: Literal["uniform"]
    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("uniform needs low < high")
        return self


class Beta(Provenance):
    """Beta(a, b) distribution, rescaled from [0, 1] to [low, high]."""

    dist: Literal["beta"]
    a: Positive
    b: Positive
    low: Number = 0.0
    high: Number = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Beta:
        if not self.low < self.high:
            raise ValueError("beta needs low < high")
        return self


class Triangular(Provenance):
    """Triangular distribution with the given low, mode and high."""

    dist: Literal["triangular"]
    low: Number
    mode: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self


class Empirical(Provenance):
    """A sample of values, one drawn per replication (a posterior sample, say).

    Parameters with the same ``group`` draw the same index in every replication, so a
    joint sample (one row per draw) stays joint.
    """

    dist: Literal["empirical"]
    values: list[Number] = Field(min_length=1)
    group: Name | None = Field(None, description="Parameters of a group draw jointly.")


Distribution = Annotated[
    Normal | TruncatedNormal | Uniform | Beta | Triangular | Empirical, Field(discriminator="dist")
]
ParamValue = float | Documented | Normal | TruncatedNormal | Uniform | Beta | Triangular | Empirical


def support(param: ParamValue) -> tuple[float, float]:
    """Return the (low, high) range a parameter's values can take."""
    if isinstance(param, float | int):
        return float(param), float(param)
    if isinstance(param, Documented):
        return param.judgement or (param.value, param.value)
    if isinstance(param, Normal):
        return float("-inf"), float("inf")
    if isinstance(param, Empirical):
        return min(param.values), max(param.values)
    return param.low, param.high


def frozen_distribution(param: ParamValue):
    """The scipy.stats frozen distribution of a distribution parameter."""
    from scipy import stats

    match param:
        case Normal():
            return stats.norm(loc=param.mean, scale=param.sd)
        case TruncatedNormal():
            a = (param.low - param.mean) / param.sd
            b = (param.high - param.mean) / param.sd
            return stats.truncnorm(a, b, loc=param.mean, scale=param.sd)
        case Uniform():
            return stats.uniform(loc=param.low, scale=param.high - param.low)
        case Beta():
            return stats.beta(param.a, param.b, loc=param.low, scale=param.high - param.low)
        case Triangular():
            width = param.high - param.low
            return stats.triang((param.mode - param.low) / width, loc=param.low, scale=width)
    raise TypeError(f"not a distribution: {param!r}")


def point_value(param: ParamValue) -> float:
    """A number's value, a documented number's value, or a distribution's mean."""
    if isinstance(param, Documented):
        return param.value
    if isinstance(param, float | int):
        return float(param)
    match param:
        case Empirical():
            import numpy as np  # only here: the language needs numpy nowhere else

            return float(np.mean(param.values))
        case Normal():
            return param.mean
        case Uniform():
            return (param.low + param.high) / 2
        case Beta():
            return param.low + (param.high - param.low) * param.a / (param.a + param.b)
        case Triangular():
            return (param.low + param.mode + param.high) / 3
    return float(frozen_distribution(param).mean())


def _param_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "distribution" if "dist" in value else "documented"
    if isinstance(value, BaseModel):
        return "distribution" if hasattr(value, "dist") else "documented"
    return "number"


def format_bounds(low: float | None, high: float | None) -> str:
    """``[low, high]`` as users read it, with None as an infinite bound."""
    lower = "-inf" if low is None else f"{low:g}"
    upper = "inf" if high is None else f"{high:g}"
    return f"[{lower}, {upper}]"


def _within(low: float | None, high: float | None):
    def check(param):
        lo, hi = support(param)
        if (low is not None and lo < low) or (high is not None and hi > high):
            bounds = format_bounds(low, high)
            if isinstance(param, Normal):
                raise ValueError(
                    f"must lie in {bounds}, but a normal distribution can take any value: "
                    "use truncnorm with low and high"
                )
            raise ValueError(f"must lie in {bounds}, but can take values in [{lo:g}, {hi:g}]")
        return param

    return check


def parameter(low: float | None = None, high: float | None = None) -> Any:
    """The type of a model parameter that must lie in [low, high] (None: unbounded)."""
    number = Annotated[float, Field(strict=True, ge=low, le=high, allow_inf_nan=False)]
    return Annotated[
        Annotated[number, Tag("number")]
        | Annotated[Documented, Tag("documented")]
        | Annotated[Distribution, Tag("distribution")],
        Discriminator(_param_kind),
        AfterValidator(_within(low, high)),
    ]


Param = parameter()
Unit = parameter(0.0, 1.0)
NonNegative = parameter(0.0, None)
WindDown = parameter(1.0, 600.0)


class Variable(Provenance):
    """A state variable of an actor, such as Russia's war intensity."""

    meaning: Text
    range: tuple[Number, Number] = Field(
        (0.0, 1.0), description="Values are kept inside [low, high]."
    )
    responds_to: dict[str, Param] = Field(
        default_factory=dict,
        description="Channel name or 'actor.variable' -> weight: what the variable responds "
        "to (a channel's intensity, another variable), added to its value from events.",
    )
    adjustment: Unit = Field(
        1.0,
        description="Monthly share of the gap to its new value the variable closes (1: at "
        "once; lower: an actor that reacts over months).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Variable:
        if not self.range[0] < self.range[1]:
            raise ValueError("range needs low < high")
        return self


class Actor(Closed):
    """A state actor (or an actor-like institution such as the UN sanctions regime)."""

    name: Text = Field(description="Display name, e.g. 'Russia'.")
    meaning: Text | None = None
    variables: dict[Name, Variable] = Field(default_factory=dict)


class ChannelDefaults(Closed):
    """Dynamics shared by every channel unless the channel sets its own."""

    threshold: Unit | None = Field(None, description="Intensity below which it is dormant.")
    emergence: Unit | None = Field(None, description="Intensity at which it is established.")
    growth: Unit | None = Field(None, description="Monthly share of the gap closed upward.")
    wind_down: WindDown | None = Field(
        None,
        description="Months an unwanted channel takes from intensity 0.7 to below 0.1, "
        "without lock-in.",
    )
    lock_in_slowdown: NonNegative | None = Field(
        None, description="Full lock-in multiplies the wind-down time by 1 + this."
    )
    noise: NonNegative | None = Field(None, description="Sd of monthly shocks at 0.5.")
    rupture_floor: Unit | None = Field(
        None, description="Monthly hazard of an accidental break when both want the channel."
    )
    rupture_decision: Unit | None = Field(
        None, description="Monthly hazard of a decided break at the largest discontent."
    )
    rupture_steepness: NonNegative | None = Field(
        None,
        description="The decided-break hazard grows as the share of the channel the less "
        "willing party no longer wants, to this power.",
    )
    lock_in_protection: Unit | None = Field(
        None, description="Share of the rupture hazard full lock-in removes."
    )
    lock_in_accrual: Unit | None = Field(None, description="Monthly lock-in gained at 1.")
    lock_in_max: Unit | None = Field(None, description="Ceiling on lock-in.")


# The parameters channel_defaults may set for every channel.
CHANNEL_DEFAULTABLE = tuple(ChannelDefaults.model_fields)


class Channel(ChannelDefaults):
    """A cooperation channel of a dyad in one domain, such as Russia–DPRK labour."""

    meaning: Text
    label: Text | None = Field(None, description="Short name for tables and figures.")
    parties: tuple[Name, Name]
    source: Text | None = None
    desire: dict[Name, dict[str, Param]] = Field(
        description="Party -> {'base' or 'actor.variable': weight}: how much each party "
        "wants the channel, before costs and spillover."
    )
    cost: dict[str, Param] = Field(
        default_factory=dict,
        description="'actor.variable' -> weight: costs that lower both parties' desire.",
    )
    spillover: dict[Name, Param] = Field(
        default_factory=dict,
        description="Other channel -> weight: active channels that raise this one's value.",
    )


class Termination(Provenance):
    """The rule that ends a channel."""

    dormancy_months: PositiveCount = Field(
        6, description="Months in a row below the threshold that end a channel."
    )


class ChannelState(Closed):
    """A channel's state at the start month."""

    intensity: Unit
    lock_in: Unit = 0.0
    source: Text | None = None
    reason: Text | None = None


class State(Closed):
    """The state of the world at the start month."""

    month: Month
    source: Text | None = None
    actors: dict[Name, dict[Name, Param]]
    channels: dict[Name, ChannelState]


class AtMonth(Closed):
    """Timing: a fixed month (YYYY-MM) or a number of months after the anchor."""

    month: MonthOrOffset


class InWindow(Closed):
    """Timing: uniform over the months of a window, both ends included."""

    window: tuple[MonthOrOffset, MonthOrOffset]


class WithHazard(Closed):
    """Timing: a constant monthly probability from the month after the anchor on."""

    hazard: Unit


class TriangularMonths(Closed):
    """Timing: a triangular distribution over months (low, mode, high), rounded."""

    triangular: tuple[MonthOrOffset, MonthOrOffset, MonthOrOffset]


class Condition(Closed):
    """A condition on the state of a month: a value below or above a level."""

    value: Text = Field(
        description="'actor.variable'; a channel's name (its intensity); '<channel>.desire' "
        "(the lesser of its parties' desires) or '<channel>.desire.<party>'."
    )
    below: Number | None = Field(None, description="Holds while the value is below this.")
    above: Number | None = Field(None, description="Holds while the value is above this.")

    @model_validator(mode="after")
    def _one_side(self) -> Condition:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of: below, above")
        return self


class Trigger(Closed):
    """Conditions on the state, all (or any) of which must hold for some months in a row."""

    all: list[Condition] | None = Field(None, min_length=1, description="Every one holds.")
    any: list[Condition] | None = Field(None, min_length=1, description="At least one holds.")
    months: PositiveCount = Field(1, description="Months in a row the conditions must hold.")

    @model_validator(mode="after")
    def _one_list(self) -> Trigger:
        if (self.all is None) == (self.any is None):
            raise ValueError("give exactly one of: all, any")
        return self

    @property
    def conditions(self) -> list[Condition]:
        """The conditions, whichever list holds them."""
        return self.all or self.any or []


class WhenState(Closed):
    """Timing: the first month in which a trigger has held for its months in a row.

    The event then happens in the following month. Before its anchor (``after``) the
    trigger is not armed; with a ``probability`` below 1 it is armed in that share of
    replications only.
    """

    when: Trigger


TIMING_KINDS = ("month", "window", "hazard", "triangular", "when")


def _single_key_kind(keys: tuple[str, ...]):
    def kind(value: Any) -> str | None:
        present = [key for key in keys if key in value] if isinstance(value, dict) else []
        if isinstance(value, BaseModel):
            present = [key for key in keys if key in type(value).model_fields]
        return present[0] if len(present) == 1 else None

    return kind


Timing = Annotated[
    Annotated[AtMonth, Tag("month")]
    | Annotated[InWindow, Tag("window")]
    | Annotated[WithHazard, Tag("hazard")]
    | Annotated[TriangularMonths, Tag("triangular")]
    | Annotated[WhenState, Tag("when")],
    Discriminator(
        _single_key_kind(TIMING_KINDS),
        custom_error_type="timing",
        custom_error_message="expected exactly one of: month, window, hazard, triangular, when",
    ),
]


class After(Closed):
    """Condition: the event can only happen after another one, timed from it."""

    event: Name
    lag: Count = Field(0, description="Months after the other event before timing starts.")


class _Effect(Closed):
    target: Text = Field(description="'actor.variable' or 'channel.parameter'.")
    ramp: Count = Field(0, description="Months to reach the full effect (0: at once).")
    duration: PositiveCount | None = Field(None, description="Months in force (none: permanent).")


class SetEffect(_Effect):
    """Move the target to a value."""

    set: Param


class AddEffect(_Effect):
    """Add to the target."""

    add: Param


class ScaleEffect(_Effect):
    """Multiply the target."""

    scale: Param


EFFECT_KINDS = ("set", "add", "scale")
Effect = Annotated[
    Annotated[SetEffect, Tag("set")]
    | Annotated[AddEffect, Tag("add")]
    | Annotated[ScaleEffect, Tag("scale")],
    Discriminator(
        _single_key_kind(EFFECT_KINDS),
        custom_error_type="effect",
        custom_error_message="expected exactly one of: set, add, scale",
    ),
]


class Event(Closed):
    """Something that may happen: when, how likely, under what conditions, with what effects."""

    description: Text | None = None
    source: Text | None = None
    reason: Text | None = None
    probability: Unit = 1.0
    timing: Timing
    after: After | None = None
    unless: list[Name] = Field(
        default_factory=list, description="Events that, if they happened first, prevent this."
    )
    effects: list[Effect] = Field(default_factory=list)

    @property
    def depends_on(self) -> list[str]:
        """The events this one follows or is blocked by."""
        return ([self.after.event] if self.after else []) + self.unless


class HazardCovariate(Closed):
    """A model quantity that multiplies a treaty's termination hazard.

    The hazard is multiplied by ``exp(β(age) · z)``, where z is, for an indicator
    (``above`` or ``below``), 1 while the condition holds and 0 otherwise; with
    ``ended_within: N``, 1 instead in the N months after the condition stopped holding
    (a war that ended, say); for a continuous covariate (``per``), the value divided by
    ``per``; and with ``since_start: true``, the change of that since the start month.
    With ``by_calendar_year: true`` an indicator is read as yearly data code it: 1 from a
    month it holds to the end of that calendar year, and with ``ended_within: N`` (whole
    years of months), 1 in the N / 12 calendar years after the last one in which it held.
    ``β(age) = log_hazard_ratio + age_slope · ln(age in years)``: an effect that fades
    (or grows) as the treaty ages, as a survival regression with a covariate-by-log(age)
    term estimates it; without ``age_slope`` the ratio is the same at every age.
    """

    meaning: Text
    value: Text = Field(description="As in a condition: 'actor.variable', a channel, ...")
    above: Number | None = None
    below: Number | None = None
    per: Number | None = Field(None, gt=0, description="Continuous: the unit of the ratio.")
    since_start: bool = Field(False, description="Use the change since the start month.")
    ended_within: PositiveCount | None = Field(
        None, description="Indicator: 1 in the N months after the condition stopped holding."
    )
    by_calendar_year: bool = Field(
        False,
        description="Indicator: held for the rest of each calendar year it held in, as "
        "yearly data code it; ended_within then counts calendar years (N / 12).",
    )
    log_hazard_ratio: Param
    age_slope: Param | None = Field(
        None, description="Change of the log hazard ratio per unit of ln(age in years)."
    )
    source: Text | None = None
    reason: Text | None = None

    @model_validator(mode="after")
    def _one_form(self) -> HazardCovariate:
        forms = [self.above is not None, self.below is not None, self.per is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of: above, below (an indicator), per")
        if self.since_start and self.per is None:
            raise ValueError("since_start applies to a continuous covariate (per)")
        if self.ended_within is not None and self.per is not None:
            raise ValueError("ended_within applies to an indicator (above or below)")
        if self.by_calendar_year:
            if self.per is not None:
                raise ValueError("by_calendar_year applies to an indicator (above or below)")
            if self.ended_within is not None and self.ended_within % 12:
                raise ValueError(
                    f"with by_calendar_year, ended_within counts whole years: "
                    f"{self.ended_within} is not a multiple of 12"
                )
        return self


class HazardStep(Closed):
    """The baseline hazard from an age on: a monthly hazard until the next step."""

    from_month: Count = Field(description="Age of the treaty in months.")
    hazard: Unit = Field(description="Monthly hazard at the reference covariates.")
    source: Text | None = None
    reason: Text | None = None


class Treaty(Closed):
    """A formal agreement whose status (in force, or ended) is kept apart from its practice.

    It ends at a proportional hazard ``h0(age) · fixed_ratio · exp(Σ β·z(t))`` with the
    covariates z of the model's state (see :class:`HazardCovariate`), or when an event
    sets ``<treaty>.in_force`` to 0 (abrogation by decision). Its operative cooperation is
    a channel; once the treaty ends, that channel's ceiling falls to ``after_end_ceiling``,
    what the ceiling takes away counts as unwanted in its decided-break hazard, and it loses
    the lock-in the treaty gave it.
    """

    meaning: Text
    label: Text | None = None
    channel: Name = Field(description="The channel that carries the treaty's practice.")
    signed: Month = Field(description="When it was concluded (its age counts from here).")
    source: Text | None = None
    baseline: list[HazardStep] = Field(
        min_length=1, description="Baseline hazard by age, steps in increasing age."
    )
    fixed_ratio: Param = Field(
        1.0, description="Hazard ratio of the treaty's fixed characteristics (formed in war...)."
    )
    covariates: dict[Name, HazardCovariate] = Field(default_factory=dict)
    after_end_ceiling: Unit = Field(
        0.0,
        description="Ceiling of the operative channel once the treaty has ended (what it "
        "takes away counts as unwanted in the channel's decided-break hazard).",
    )


class Shock(Closed):
    """A relationship-wide shock (a crisis, a scandal) that hits several channels at once.

    It strikes at a constant monthly hazard, any number of times. Each strike hits each
    channel with its reach probability; a hit channel loses ``severity`` of its intensity
    at once, and both parties' desire for it drops by ``desire_drop`` for ``duration``
    months, so that linked channels fall together.
    """

    description: Text
    hazard: Unit = Field(description="Monthly probability of a strike.")
    reach: dict[Name, Unit] = Field(
        default_factory=dict, description="Channel -> probability a strike hits it."
    )
    default_reach: Unit = Field(0.0, description="Reach of channels not listed.")
    severity: Unit = Field(description="Share of a hit channel's intensity lost at once.")
    desire_drop: Unit = Field(0.0, description="Fall in both parties' desire while it lasts.")
    duration: PositiveCount = Field(12, description="Months the desire drop lasts.")
    source: Text | None = None
    reason: Text | None = None


class Scenario(Closed):
    """A fully resolved scenario: the world, its state at the start, and what may happen."""

    name: Text
    description: Text
    start: Month
    horizon: Annotated[int, BeforeValidator(_integral), Field(strict=True, ge=1, le=1200)]
    replications: Annotated[
        int, BeforeValidator(_integral), Field(strict=True, ge=1, le=100_000_000)
    ] = Field(
        description="Replications a run uses unless told otherwise: a run setting, recorded "
        "in the run's manifest, not part of the scenario's hash."
    )
    seed: Annotated[int, BeforeValidator(_integral), Field(strict=True, ge=0, lt=2**63)] = Field(
        description="Seed a run uses unless told otherwise: a run setting, recorded in the "
        "run's manifest, not part of the scenario's hash."
    )
    report_horizons: list[PositiveCount] = Field(default_factory=lambda: [12, 24, 60, 120])
    termination: Termination = Termination()
    alliance_channel: Name | None = Field(
        None,
        description="The channel that stands for the formal alliance; its survival heads the "
        "relationship-level report.",
    )
    channel_defaults: ChannelDefaults = ChannelDefaults()
    actors: dict[Name, Actor]
    channels: dict[Name, Channel]
    state: State
    events: dict[Name, Event] = Field(default_factory=dict)
    treaties: dict[Name, Treaty] = Field(default_factory=dict)
    shocks: dict[Name, Shock] = Field(default_factory=dict)

    # The files the scenario was read from, parents first (set by the loader).
    _files: tuple[str, ...] = PrivateAttr(default=())


# Objects a file may give only in part (the rest comes from the files it extends).
MERGEABLE_MODELS = (
    Scenario,
    Actor,
    Variable,
    ChannelDefaults,
    Channel,
    Termination,
    ChannelState,
    State,
    Event,
    Treaty,
    HazardCovariate,
    Shock,
)


def resolved_schema() -> dict[str, Any]:
    """JSON Schema of a fully resolved scenario (what the loader validates after extends)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "alliance-sim resolved scenario"
    return schema


def _optional(node: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [node, {"type": "null"}]}


def file_schema() -> dict[str, Any]:
    """JSON Schema of one scenario file, for editors.

    A file may give only part of a scenario (the rest comes from the files it extends)
    and may remove a parent's entry with ``null``, so the objects that merge
    (:data:`MERGEABLE_MODELS`) have no required keys and accept null values; numbers,
    distributions, timings and effects must still be complete.
    """
    schema = resolved_schema()
    schema["title"] = "alliance-sim scenario file"
    mergeable = {model.__name__ for model in MERGEABLE_MODELS}
    for name, definition in schema["$defs"].items():
        if name in mergeable:
            _open(definition)
    _open(schema)
    schema["properties"]["extends"] = {
        "description": "Scenario files this one builds on, relative to it, merged in order.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    return schema


def _open(definition: dict[str, Any]) -> None:
    definition.pop("required", None)
    for key, value in definition.get("properties", {}).items():
        definition["properties"][key] = _optional(value)
        extra = value.get("additionalProperties")
        if isinstance(extra, dict):
            value["additionalProperties"] = _optional(extra)
        for pattern, entry in value.get("patternProperties", {}).items():
            value["patternProperties"][pattern] = _optional(entry)


def sample_group_sizes(node: Any) -> dict[str, set[int]]:
    """The joint-sample groups of empirical distributions under ``node``, and their sizes."""
    sizes: dict[str, set[int]] = {}

    def visit(item: Any) -> None:
        if isinstance(item, Empirical) and item.group:
            sizes.setdefault(item.group, set()).add(len(item.values))
        elif isinstance(item, BaseModel):
            for name in type(item).model_fields:
                visit(getattr(item, name))
        elif isinstance(item, dict):
            for value in item.values():
                visit(value)
        elif isinstance(item, list | tuple):
            for value in item:
                visit(value)

    visit(node)
    return sizes
