"""A generated CRM history for measuring the conversion model (bench/learning.py, tests): leads and deals
exports, their column map and fields file, and the generator's own probability of each lead converting (the
oracle no model can beat).

Conversion within 90 days is driven by a hidden mix of arrival fields (lead source, company size, title),
custom fields (occupation, time on site, pages viewed) and words of the message, with an interaction and
Bernoulli noise; the intercept is solved for the base rate. The export also carries two post-hoc columns that
leak the outcome: `Lead Quality` (declared known later) and `Rep Tags` (declared, wrongly, known at arrival:
the leakage guard must catch it by its AUC). Not the sandbox lead generator: the shipped rulebook was not
written against this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

SOURCES = np.array(["demo_request", "contact_form", "chat", "ebook", "webinar", "event", "pricing_page",
                    "free_trial"])  # fmt: skip
SOURCE_EFFECT = np.array([1.1, 0.4, 0.2, -0.7, -0.4, -0.2, 0.7, 0.5])
SOURCE_SHARE = np.array([0.08, 0.15, 0.1, 0.22, 0.15, 0.1, 0.08, 0.12])
OCCUPATIONS = np.array(["Working Professional", "Business Owner", "Student", "Unemployed", "Other"])
OCCUPATION_EFFECT = np.array([1.2, 1.5, -1.0, -0.5, 0.0])
OCCUPATION_SHARE = np.array([0.35, 0.1, 0.25, 0.2, 0.1])
TITLES = np.array(["VP Operations", "Director of IT", "Head of Data", "Operations Manager", "Analyst",
                   "Engineer", "Student", "Consultant", "CEO", "Marketing Coordinator"])  # fmt: skip
TITLE_EFFECT = np.array([0.6, 0.5, 0.4, 0.2, -0.1, 0.0, -0.6, -0.2, 0.5, -0.3])
INDUSTRIES = np.array(
    ["Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education"]
)
COUNTRIES = np.array(["United States", "United Kingdom", "Germany", "France", "India", "Brazil"])
BUYING = ["we need pricing for our team", "can we get a quote", "looking to book a demo",
          "budget approved for this quarter", "evaluating vendors for a contract", "need an implementation plan"]  # fmt: skip
BROWSING = ["just curious how this works", "for a student project", "downloading for later reading",
            "researching for homework", "saw your webinar"]  # fmt: skip
NEUTRAL = ["hello", "please send more information", "interested in your product", "tell me more",
           "questions about features"]  # fmt: skip
QUALITY = np.array(["High in Relevance", "Might be", "Not Sure", "Worst"])
TAGS = np.array(["Closed by rep", "Will revert after reading", "Ringing", "Interested in other courses"])

FIELDS_YAML = """required: []
custom:
  - {name: occupation, type: category, known_at: arrival, column: Occupation}
  - {name: time_on_site, type: number, known_at: arrival, column: Time On Site}
  - {name: pages_viewed, type: number, known_at: arrival, column: Pages Viewed}
  - {name: newsletter, type: boolean, known_at: arrival, column: Newsletter}
  - {name: lead_quality, type: category, known_at: later, column: Lead Quality}
  - {name: rep_tags, type: category, known_at: arrival, column: Rep Tags}
"""
MAP_YAML = """leads:
  lead_id: Lead ID
  email: Email
  first_name: First Name
  last_name: Last Name
  title: Title
  company: Company
  country: Country
  industry: Industry
  employees: Employees
  lead_source: Lead Source
  message: Description
  created_at: Create Date
deals:
  deal_id: Opportunity ID
  lead_id: Lead ID
  amount: Amount
  stage: Stage
  created_at: Created Date
  close_date: Close Date
dates:
  formats: [iso]
"""


@dataclass
class ConversionHistory:
    """leads and deals: the two exports (CSV headers as MAP_YAML names them); oracle: the generator's P(an
    opportunity within 90 days) per lead, indexed like leads; as_of: when the export was taken."""

    leads: pd.DataFrame
    deals: pd.DataFrame
    oracle: pd.Series
    as_of: pd.Timestamp

    def write(self, folder: Path) -> dict[str, Path]:
        """leads.csv, deals.csv, map.yaml and fields.yaml in folder; their paths by name."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / f"{name}.{ext}" for name, ext in
                 (("leads", "csv"), ("deals", "csv"), ("map", "yaml"), ("fields", "yaml"))}  # fmt: skip
        self.leads.to_csv(paths["leads"], index=False)
        self.deals.to_csv(paths["deals"], index=False)
        paths["map"].write_text(MAP_YAML, encoding="utf-8")
        paths["fields"].write_text(FIELDS_YAML, encoding="utf-8")
        return paths


def conversion_history(
    leads: int, seed: int = 0, base_rate: float = 0.10, start: str = "2025-01-01", days: int = 365
) -> ConversionHistory:
    """`leads` generated leads over `days` from start, their deals, and the oracle."""
    rng = np.random.default_rng(seed)
    n = leads
    source = rng.choice(len(SOURCES), n, p=SOURCE_SHARE)
    occupation = rng.choice(len(OCCUPATIONS), n, p=OCCUPATION_SHARE)
    title = rng.integers(0, len(TITLES), n)
    employees = np.round(np.exp(rng.normal(4.0, 1.6, n))).clip(1, 50_000)
    time_on_site = np.round(rng.gamma(1.5, 400, n))
    pages = rng.poisson(2 + time_on_site / 300)
    kind = rng.choice(3, n, p=[0.25, 0.2, 0.55])  # buying, browsing or neutral words
    message = _messages(rng, kind)
    size = np.log10(employees)
    logit = (
        SOURCE_EFFECT[source] + OCCUPATION_EFFECT[occupation] + TITLE_EFFECT[title]
        + 1.4 * np.tanh((time_on_site - 500) / 500)  # saturating: past an hour adds nothing
        - 0.8 * (size - 2.3) ** 2 / 2  # mid-market buys most
        + np.select([kind == 0, kind == 1], [1.0, -1.2], 0.0)
        + 0.8 * ((SOURCES[source] == "pricing_page") & (employees > 200))
        + 0.05 * np.minimum(pages, 10)
    )  # fmt: skip
    shift = brentq(lambda b: expit(logit + b).mean() - base_rate, -15, 15)
    p = expit(logit + shift)
    won90 = rng.random(n) < p
    created = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), unit="D")
    ids = pd.Series([f"L{i:07d}" for i in range(n)])
    company = pd.Series(rng.integers(0, 5000, n)).astype(str)
    domain = ("corp" + company + ".com").where(rng.random(n) >= 0.3, "gmail.com")
    frame = pd.DataFrame(
        {
            "Lead ID": ids,
            "Email": ids.str.lower() + "@" + domain,
            "First Name": "Pat",
            "Last Name": "Lee",
            "Title": TITLES[title],
            "Company": "Company " + company,
            "Country": rng.choice(COUNTRIES, n),
            "Industry": rng.choice(INDUSTRIES, n),
            "Employees": employees.astype(int),
            "Lead Source": SOURCES[source],
            "Description": message,
            "Create Date": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Occupation": OCCUPATIONS[occupation],
            "Time On Site": time_on_site.astype(int),
            "Pages Viewed": pages,
            "Newsletter": np.where(rng.random(n) < 0.4, "yes", "no"),
            # post-hoc: what the rep wrote after working the lead, all but decided by the outcome
            "Lead Quality": np.where(won90, rng.choice(QUALITY[:2], n), rng.choice(QUALITY, n, p=[0.05, 0.15, 0.4, 0.4])),
            "Rep Tags": np.where(won90 & (rng.random(n) < 0.97), TAGS[0], rng.choice(TAGS[1:], n)),
        }
    )  # fmt: skip
    deals = _deals(rng, frame, created, won90, employees)
    as_of = created.max() + pd.Timedelta(days=120)
    return ConversionHistory(frame, deals, pd.Series(p, index=frame.index, name="oracle"), as_of)


def _messages(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    pools = [np.array(BUYING), np.array(BROWSING), np.array(NEUTRAL)]
    first = np.empty(len(kind), dtype=object)
    for k, pool in enumerate(pools):
        at = kind == k
        first[at] = rng.choice(pool, at.sum())
    filler = rng.choice(np.array([*NEUTRAL, ""]), len(kind))
    return (pd.Series(first) + ". " + pd.Series(filler)).str.strip(". ").to_numpy()


def _deals(
    rng: np.random.Generator,
    leads: pd.DataFrame,
    created: pd.DatetimeIndex,
    won90: np.ndarray,
    employees: np.ndarray,
) -> pd.DataFrame:
    """An opportunity within 90 days for each converter, a later one for some others (Nurture in hindsight)."""
    later = ~won90 & (rng.random(len(won90)) < 0.05)
    has = won90 | later
    n = int(has.sum())
    opened_after = np.where(won90[has], rng.uniform(1, 85, n), rng.uniform(100, 300, n))
    opened = created[has] + pd.to_timedelta(opened_after, unit="D")
    amount = np.round(np.exp(rng.normal(9.5, 0.6, n)) * (1 + np.log10(employees[has])), -2)
    stage = rng.choice(np.array(["Closed Won", "Closed Lost", "Prospecting"]), n, p=[0.4, 0.4, 0.2])
    closed = opened + pd.to_timedelta(rng.uniform(10, 60, n), unit="D")
    return pd.DataFrame(
        {
            "Opportunity ID": [f"D{i:07d}" for i in range(n)],
            "Lead ID": leads["Lead ID"][has].to_numpy(),
            "Amount": amount,
            "Stage": stage,
            "Created Date": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Close Date": np.where(stage == "Prospecting", "", closed.strftime("%Y-%m-%d")),
        }
    )
