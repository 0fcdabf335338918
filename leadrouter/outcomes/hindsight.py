"""Hindsight tiers: the tier each lead should have had, knowing what it became, with the reason in words.

| tier | rule |
|---|---|
| VIP | an opportunity within 90 days worth at least the VIP cut: the top share of the company's won deals by
  amount (HindsightRules.vip_share), or an absolute amount (vip_amount); set by LEADROUTER_HINDSIGHT_VIP_SHARE
  and LEADROUTER_HINDSIGHT_VIP_AMOUNT (configured_rules) |
| Standard | any other opportunity within 90 days |
| Nurture | an opportunity after 90 days, or re-engaged (a `reengaged` column, when the data has one) |
| Other | a non-sales category (a `category` column, when given), or never engaged |

An opportunity with no date gets no tier (<NA>): whether it came within 90 days cannot be told. The one
definition (docs/outcome-tables.md): the outcome loop's tables, headline and feedback labels, the reports, the
backtest, rule mining and the conversion model's label all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadrouter.config import Settings
from leadrouter.outcomes.money import currency_codes, in_base_currency
from leadrouter.schema import Category, Tier

HORIZON_DAYS = 90
OUTCOME_COLUMNS = ["opportunity", "days_to_opportunity", "pipeline", "won", "revenue"]  # what hindsight reads


@dataclass(frozen=True)
class HindsightRules:
    """vip_share: the top share of won deals (by amount) whose size makes a VIP; vip_amount, when set, is the
    cut itself and the share is ignored."""

    vip_share: float = 0.2
    vip_amount: float | None = None
    horizon_days: int = HORIZON_DAYS

    def __post_init__(self) -> None:
        if not 0 < self.vip_share <= 1:
            raise ValueError(f"vip_share {self.vip_share!r} must be above 0 and at most 1 (0.2: the top 20%)")
        if self.vip_amount is not None and self.vip_amount < 0:
            raise ValueError(f"vip_amount {self.vip_amount!r} must not be negative")


def configured_rules(settings: Settings | None = None) -> HindsightRules:
    """The hindsight rules the settings set (LEADROUTER_HINDSIGHT_VIP_SHARE, LEADROUTER_HINDSIGHT_VIP_AMOUNT):
    the one definition every caller that passes no rules gets."""
    settings = settings if settings is not None else Settings()
    return HindsightRules(settings.hindsight_vip_share, settings.hindsight_vip_amount)


def vip_rule(rules: HindsightRules | None = None) -> str:
    """What makes a VIP in hindsight, in words, for reports (rules: the configured ones when None)."""
    rules = rules if rules is not None else configured_rules()
    size = (
        f"worth at least {rules.vip_amount:,.0f}"
        if rules.vip_amount is not None
        else f"in the top {rules.vip_share:.0%} of won deals by amount"
    )
    return f"an opportunity within {rules.horizon_days} days {size}"


def vip_cut(frame: pd.DataFrame, rules: HindsightRules | None = None) -> float:
    """The amount an opportunity must reach to be VIP: rules.vip_amount, else the (1 - vip_share) quantile of
    the won deals' amounts (of all opportunities' when nothing was won; infinite when there is none). rules:
    the configured ones when None."""
    rules = rules if rules is not None else configured_rules()
    if rules.vip_amount is not None:
        return float(rules.vip_amount)
    won = frame["pipeline"][frame["won"].astype(bool) & frame["opportunity"].astype(bool)]
    amounts = won if len(won) else frame["pipeline"][frame["opportunity"].astype(bool)]
    amounts = pd.to_numeric(amounts, errors="coerce").dropna()
    return float(amounts.quantile(1 - rules.vip_share)) if len(amounts) else float("inf")


def vip_cuts(
    frame: pd.DataFrame, rules: HindsightRules | None = None, rates: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per lead: the amount its opportunity is compared with (`amount`), the VIP cut it must reach (`cut`) and
    the cut in words (`basis`, and `under` for an opportunity below it), indexed like frame. Amounts in several
    currencies (a `currency` column; null: the CRM's only currency) are never compared blindly: each converts
    to the base currency through rates (fx_rates' rows, leadrouter.outcomes.money, on the `amount_date`
    column), else it is judged among its own currency's deals, and the basis says its currency has no rate.
    rules.vip_amount is in the base currency (the CRM's only currency without rates); a currency without a rate
    takes the vip_share cut of its own. A lead without an opportunity is never VIP: its cut is infinite."""
    rules = rules if rules is not None else configured_rules()
    amount = pd.to_numeric(frame["pipeline"], errors="coerce").astype(float).to_numpy(copy=True)
    deals = frame["opportunity"].astype(bool).to_numpy()
    group = np.full(len(frame), "", dtype=object)  # the currency each deal is compared in
    bases: set[str] = set()
    if "currency" in frame:  # only the deals: a million routed leads have a few hundred thousand
        group[deals] = currency_codes(frame["currency"][deals]).fillna("").to_numpy(dtype=object)
    if rates is not None and len(rates) and (group[deals] != "").any():
        if "amount_date" not in frame:
            raise ValueError(
                "converting through fx_rates needs an amount_date column: the close date, else arrival"
            )
        priced = pd.Series(group[deals]).replace("", None)
        converted = in_base_currency(pd.Series(amount[deals]), priced, frame["amount_date"][deals], rates)
        done = converted["amount_base"].notna().to_numpy()
        rows = np.flatnonzero(deals)[done]
        amount[rows] = converted["amount_base"].to_numpy(dtype=float)[done]
        group[rows] = converted["base_currency"].to_numpy(dtype=object)[done]
        bases = set(currency_codes(rates["base_currency"]).dropna())
    out = pd.DataFrame(
        {"amount": np.nan_to_num(amount), "cut": np.inf, "basis": "", "under": ""}, index=frame.index
    )
    narrow = pd.DataFrame({"pipeline": amount, "won": frame["won"].to_numpy(), "opportunity": deals})
    groups = pd.unique(group[deals]) if deals.any() else np.array([""], dtype=object)
    for code in groups:
        rows = deals & (group == code) if len(groups) > 1 else np.ones(len(frame), dtype=bool)
        # the one group of a single-currency frame, the base currency, or the CRM's only one: the rules' cut
        plain = len(groups) == 1 or code in bases or (code == "" and not bases)
        own = rules if plain else HindsightRules(rules.vip_share, None, rules.horizon_days)
        cut = vip_cut(narrow[rows] if len(groups) > 1 else narrow, own)
        unit = f" {code}" if code and len(groups) > 1 else ""
        alone = "" if plain else f", among {code} deals: {code} has no rate in fx_rates"
        share = "" if own.vip_amount is not None else f"top {own.vip_share:.0%} of won deals: "
        out.loc[rows, "cut"] = cut
        out.loc[rows, "basis"] = f"{share}at least {cut:,.0f}{unit}{alone}"
        out.loc[rows, "under"] = f"under the VIP cut, {cut:,.0f}{unit}{alone}"
    return out


def hindsight(
    frame: pd.DataFrame,
    rules: HindsightRules | None = None,
    reasons: bool = True,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per lead (frame: opportunity, days_to_opportunity, pipeline, won; optional category, reengaged, and
    currency with amount_date, see vip_cuts): the hindsight tier (<NA>: an undated opportunity) and its reason,
    indexed like frame. rules: the configured ones (configured_rules) when None; rates: fx_rates' rows;
    reasons=False leaves the reason column out (a million sentences cost seconds)."""
    rules = rules if rules is not None else configured_rules()
    opportunity = frame["opportunity"].astype(bool).to_numpy()
    days = pd.to_numeric(frame["days_to_opportunity"], errors="coerce").to_numpy(dtype=float)
    cuts = vip_cuts(frame, rules, rates)
    amount, cut = cuts["amount"].to_numpy(dtype=float), cuts["cut"].to_numpy(dtype=float)
    undated = opportunity & np.isnan(days)
    in_time = opportunity & (days <= rules.horizon_days)
    later = opportunity & (days > rules.horizon_days)
    reengaged = _flag(frame, "reengaged")
    category = frame["category"].astype("string") if "category" in frame else None
    non_sales = (
        np.zeros(len(frame), dtype=bool)
        if category is None
        else (category.notna() & category.ne(Category.SALES.value)).to_numpy(dtype=bool)
    )
    vip = in_time & (amount >= cut)
    conditions = [undated, vip, in_time, later, ~opportunity & non_sales, ~opportunity & reengaged]
    tiers = [None, Tier.VIP, Tier.STANDARD, Tier.NURTURE, Tier.OTHER, Tier.NURTURE]
    tier = np.select(conditions, [t.value if t else "" for t in tiers], Tier.OTHER.value)
    if not reasons:
        return pd.DataFrame(
            {"hindsight": pd.array(np.where(undated, None, tier), dtype="string")}, index=frame.index
        )
    # words built only for the rows they describe: a million leads each spelt five ways would take gigabytes
    first = np.select(conditions, list(range(len(conditions))), -1)
    reason = np.full(len(frame), "no opportunity, never re-engaged", dtype=object)
    reason[first == 0] = "opportunity without a date: within 90 days or not is unknown"
    words = [cuts["basis"].to_numpy(dtype=object), cuts["under"].to_numpy(dtype=object), None]
    for i, said in enumerate(words, start=1):
        hit = first == i
        suffix = f"after {rules.horizon_days} days" if said is None else said[hit]
        reason[hit] = _said(days[hit], amount[hit]) + " (" + suffix + ")"
    if category is not None:  # else no row is non-sales
        hit = first == 4
        reason[hit] = "no opportunity; category " + category.fillna("").to_numpy(dtype=object)[hit]
    reason[first == 5] = "no opportunity; re-engaged"
    out = pd.DataFrame(
        {"hindsight": pd.array(tier, dtype="string"), "hindsight_reason": pd.array(reason, dtype="string")},
        index=frame.index,
    )
    out.loc[undated, "hindsight"] = pd.NA
    return out


def _said(days: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """ "opportunity on day N worth X" per opportunity."""
    day = pd.Series(np.floor(np.nan_to_num(days)).astype(np.int64), dtype="string").to_numpy(dtype=object)
    return (
        "opportunity on day "
        + day
        + " worth "
        + pd.Series(amount).map("{:,.0f}".format).to_numpy(dtype=object)
    )


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[name].astype("boolean").fillna(False).to_numpy(dtype=bool)


def converted(tiers: pd.Series) -> pd.Series:
    """The conversion model's label from hindsight tiers: an opportunity within 90 days (VIP or Standard);
    <NA> for an undated opportunity, which cannot be told either way."""
    sales = tiers.isin([Tier.VIP.value, Tier.STANDARD.value]).astype("boolean")
    return sales.mask(tiers.isna()).rename("converted")


def labelled(
    frame: pd.DataFrame, rules: HindsightRules | None = None, as_of: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The leads whose label is known (dated, and past their 90 days at as_of), oldest first, with their
    hindsight, hindsight_reason and a bool `converted`; and the counts: given, undated (an opportunity without a
    date), immature (younger than 90 days at as_of), used. frame: leads with created_at and OUTCOME_COLUMNS."""
    rules = rules if rules is not None else configured_rules()
    tiers = hindsight(frame, rules)
    label = converted(tiers["hindsight"])
    created = pd.to_datetime(frame["created_at"], utc=True)
    horizon = pd.Timedelta(days=rules.horizon_days)
    mature = created + horizon <= as_of if as_of is not None else created.notna()
    keep = (label.notna() & mature).to_numpy(dtype=bool)
    out = frame.drop(columns=[c for c in tiers.columns if c in frame])[keep].join(tiers[keep])
    out = out.assign(converted=label[keep].astype(bool))
    out = out.sort_values("created_at", kind="stable").reset_index(drop=True)
    counts = {"given": len(frame), "undated": int(label.isna().sum()),
              "immature": int((label.notna() & ~mature).sum()), "used": len(out)}  # fmt: skip
    return out, counts


def by_tier(frame: pd.DataFrame, routed: str = "tier", unrouted: str = "(review)") -> pd.DataFrame:
    """Leads by routed tier (rows) and hindsight tier (columns), with each routed tier's leads and conversion
    (opportunities within 90 days over leads): the backtest's table of routed against hindsight tiers."""
    rows = frame[routed].astype("string").fillna(unrouted).rename("routed")
    cols = frame["hindsight"].astype("string").fillna("(undated deal)").rename("hindsight")
    table = pd.crosstab(rows, cols)
    order = [t.value for t in Tier if t.value in table.columns]
    table = table[order + [c for c in table.columns if c not in order]]
    label = converted(frame["hindsight"].astype("string")).astype("Float64")
    table["leads"] = rows.value_counts().reindex(table.index).to_numpy()
    table["conversion"] = label.groupby(rows).mean().reindex(table.index).round(4).to_numpy()
    return table.reset_index()
