"""Lead-to-account matching: the registrable domain first, then the fuzzy company name, always explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from leadrouter.enrich.company_names import (
    DESCRIPTIVE_WORDS,
    NOISE_WORDS,
    comparison_key,
    normalize_company,
)
from leadrouter.enrich.domains import company_domains, ends_in, hosts, registrable, registrable_domain
from leadrouter.enrich.email import email_domain
from leadrouter.schema import utc_stamps

# Chosen on tests/data/account_matches.csv (test_threshold_sits_in_the_gap keeps it honest): right name
# matches score 90-100 (a typo in a 6+ letter name: "Tescos" 91, "Inittech" 93; a unique prefix: 90), while
# the best wrong candidate peaks at 84 ("Delta Electronics" vs LG Electronics; "Siemens Energy" 71). 88 sits
# in that gap, leaning to precision, and above one typo in a 5-letter name (80), where short names collide.
NAME_MATCH_THRESHOLD = 88.0
# a lead name that is the leading part of exactly one account's name ("Costco" -> Costco Wholesale) is
# likely that account, but less sure than a typo-level match: it scores just above the threshold
PREFIX_SCORE = 90.0
SHORT_NAME_LENGTH = 3  # "sap", "ubs", "arm" sit one edit from unrelated names: only exact matches count
# an anonymised or B2C lead (config/fields.yaml does not require email or company) may carry none of them
NOTHING_TO_MATCH = "No match: the lead has no email, website or company to match on."


def match_accounts(
    leads: pd.DataFrame, accounts: pd.DataFrame, threshold: float = NAME_MATCH_THRESHOLD
) -> pd.DataFrame:
    """The account each lead belongs to, by email (else website) domain or else by company name.

    Columns, on the leads' index: account_id, match_method ("domain" | "name" | <NA>), match_score (0-100),
    runner_up_id, runner_up_score, match_explanation. An unmatched lead's runner-up is its nearest account; a
    lead with no email, website or company is explained as having nothing to match on. An email_domain column
    (as enrich_leads derives it from the email) is used as it is rather than derived again.
    """
    lead = leads.reindex(columns=["email", "company", "website"]).astype("string")  # absent columns: <NA>
    ranked = _ranked_accounts(accounts)
    by_email, by_website = _domain_outcomes(ranked, "email"), _domain_outcomes(ranked, "website")
    domains = by_email.index
    email_domains = leads["email_domain"] if "email_domain" in leads else email_domain(lead["email"])
    email_at = _account_domain_positions(email_domains, domains, are_hosts=True)
    website_at = _account_domain_positions(lead["website"], domains)
    no_domain = (email_at < 0) & (website_at < 0)  # only these need their company name compared
    key_at, keys = pd.factorize(comparison_key(normalize_company(lead["company"][no_domain])))
    by_name = _name_outcomes(pd.Series(keys, dtype="string"), ranked, threshold)

    # every lead points at one outcome row: its email domain's, else its website domain's, else its name's
    outcomes = pd.concat([by_email, by_website, by_name], ignore_index=True)
    at = np.where(email_at >= 0, email_at, len(domains) + website_at)
    at[no_domain] = 2 * len(domains) + np.where(key_at >= 0, key_at, len(by_name) - 1)
    chosen, ids = outcomes.iloc[at], ranked["account_id"].array
    nothing = _blank(lead)
    explanation = np.where(nothing, NOTHING_TO_MATCH, chosen["explanation"].to_numpy(dtype=object))
    return pd.DataFrame(
        {
            "account_id": ids.take(chosen["winner"].to_numpy(), allow_fill=True),
            "match_method": pd.array(chosen["method"].to_numpy(), dtype="string"),
            "match_score": pd.array(chosen["score"].to_numpy(), dtype="Float64"),
            "runner_up_id": ids.take(chosen["runner"].to_numpy(), allow_fill=True),
            "runner_up_score": pd.array(chosen["runner_score"].to_numpy(), dtype="Float64"),
            "match_explanation": pd.array(explanation, dtype="string"),
        },
        index=leads.index,
    )


def _blank(lead: pd.DataFrame) -> np.ndarray:
    """Rows whose every column is missing or nothing but whitespace."""
    blank = np.ones(len(lead), dtype=bool)
    for column in lead.columns:  # most leads have an email: only the few still blank read the next column
        rows = np.flatnonzero(blank)
        texts = lead[column].to_numpy(dtype=object, na_value="")[rows]
        blank[rows] = np.fromiter((not text or text.isspace() for text in texts), dtype=bool, count=len(rows))
    return blank


def _account_domain_positions(values: pd.Series, domains: pd.Index, *, are_hosts: bool = False) -> np.ndarray:
    """Position in `domains` of each email host's or website's registrable domain, or -1."""
    codes, uniques = pd.factorize(values)
    texts = pd.Series(uniques, dtype="string")
    host_names = texts if are_hosts else hosts(texts)
    # a registrable domain is a dot-suffix of its host, so only hosts ending in an account domain can match:
    # tldextract runs on those few rather than on every distinct host
    account_domains = set(domains)
    names = host_names.to_numpy(dtype=object, na_value=None)
    could_match = np.fromiter(
        (name is not None and ends_in(name, account_domains) for name in names), dtype=bool, count=len(names)
    )
    found = pd.Series(pd.NA, index=host_names.index, dtype="string")
    found[could_match] = company_domains(registrable(host_names[could_match]), texts[could_match].str.lower())
    return np.append(domains.get_indexer(found.fillna("")), -1)[codes]  # code -1, a missing value: -1


def _ranked_accounts(accounts: pd.DataFrame) -> pd.DataFrame:
    """Accounts in tie-break order: active owner first, then most recent activity, then account id."""
    active = accounts["owner_active"].astype("string").str.strip().str.lower().isin({"true", "1", "yes", "t"})
    # CRM exports mix "2025-01-01" and "2025-01-01T09:30:00Z" in one column: parse each on its own
    last_activity = utc_stamps(accounts["last_activity_at"])
    ranked = pd.DataFrame(
        {
            "account_id": accounts["account_id"].astype("string").array,
            "name": accounts["name"].astype("string").fillna("(unnamed)").array,
            "website": accounts["website"].astype("string").str.lower().array,
            "owner_active": active.to_numpy(),
            "last_activity_at": last_activity.dt.tz_localize(None).to_numpy(),  # naive UTC: numpy compares it
        }
    )
    ranked = ranked.sort_values(
        ["owner_active", "last_activity_at", "account_id"], ascending=[False, False, True], na_position="last"
    ).reset_index(drop=True)
    ranked["domain"] = company_domains(registrable_domain(ranked["website"]), ranked["website"])
    ranked["key"] = comparison_key(normalize_company(ranked["name"]))
    ranked["label"] = ranked["name"] + " (" + ranked["account_id"].fillna("no id") + ")"
    return ranked


def _lost_tie_because(ranked: pd.DataFrame, winner: np.ndarray, runner: np.ndarray) -> np.ndarray:
    """Why an equally scored runner-up ranked below the winner."""
    active, last = ranked["owner_active"].to_numpy(), ranked["last_activity_at"].to_numpy()
    older = (last[runner] < last[winner]) | (np.isnat(last[runner]) & ~np.isnat(last[winner]))
    return np.where(
        active[winner] & ~active[runner], "its owner is inactive",
        np.where(older, "its last activity is older", "its account id sorts later"),
    )  # fmt: skip


def _domain_outcomes(ranked: pd.DataFrame, via: str) -> pd.DataFrame:
    """Per account domain: winner, runner-up on the same domain, and the sentence for a match `via` it."""
    on_domain = pd.DataFrame({"domain": ranked["domain"], "at": np.arange(len(ranked))}).dropna()
    place = on_domain.groupby("domain").cumcount()  # accounts are in tie-break order already
    winner = on_domain[place == 0].set_index("domain")["at"]
    runner = on_domain[place == 1].set_index("domain")["at"].reindex(winner.index, fill_value=-1)
    labels, has_runner = ranked["label"].to_numpy(dtype=object), runner.to_numpy() >= 0
    lost = _lost_tie_because(ranked, winner.to_numpy(), np.where(has_runner, runner, winner))
    head = "Matched " + labels[winner] + f" by its {via} domain " + winner.index.to_numpy(dtype=object)
    runner_up = "; runner-up " + labels[runner] + " on the same domain lost the tie-break: " + lost
    explanation = (
        head + ", score 100" + np.where(has_runner, runner_up, "; no other account on that domain") + "."
    )
    runner_score = np.where(has_runner, 100.0, np.nan)
    outcomes = pd.DataFrame(
        {"winner": winner, "score": 100.0, "runner": runner, "runner_score": runner_score}
    )
    return outcomes.assign(method="domain", explanation=explanation)


def _name_scores(keys: pd.Series, ranked: pd.DataFrame) -> np.ndarray:
    """Lead-by-account name similarity, 0-100: typo and word-order tolerant, guarded against weak evidence."""
    account_keys = ranked["key"].fillna("")
    # ratio catches typos; ratio on word-sorted names is token_sort_ratio ("Bosch, Robert"), each name sorted
    # once rather than once per pair. WRatio and token_set_ratio would take "Delta" for "Delta Dental".
    as_typed = process.cdist(
        keys.tolist(), account_keys.tolist(), scorer=fuzz.ratio, dtype=np.float32, workers=-1
    )
    words, account_words = _sorted_words(keys), _sorted_words(account_keys)
    by_word = process.cdist(words, account_words, scorer=fuzz.ratio, dtype=np.float32, workers=-1)
    scores = np.maximum(as_typed, by_word)
    key_index = pd.Index(account_keys.unique())
    same = key_index.get_indexer(keys)[:, None] == key_index.get_indexer(account_keys)[None, :]
    scores[(_weak_evidence(keys)[:, None] | _weak_evidence(account_keys)[None, :]) & ~same] = 0
    prefix_of = _unique_prefixes(account_keys)
    rows = np.flatnonzero(keys.isin(prefix_of).to_numpy())
    hits = keys.iloc[rows].map(prefix_of).to_numpy()[:, None] == account_keys.to_numpy()[None, :]
    scores[rows] = np.where(hits, np.maximum(scores[rows], PREFIX_SCORE), scores[rows])
    return scores


def _sorted_words(keys: pd.Series) -> list[str]:
    return [" ".join(sorted(key.split())) for key in keys.tolist()]


def _weak_evidence(keys: pd.Series) -> np.ndarray:
    """Names too short to survive a typo, or made only of generic words: they can only match exactly."""
    generic_words = DESCRIPTIVE_WORDS | NOISE_WORDS
    generic = np.fromiter(
        (set(key.split()) <= generic_words for key in keys.tolist()), dtype=bool, count=len(keys)
    )
    return (keys.str.len() <= SHORT_NAME_LENGTH).to_numpy() | generic


def _unique_prefixes(account_keys: pd.Series) -> dict[str, str]:
    """Leading words of one account name that no other account name contains ("costco", not "delta")."""
    words_of = {key: key.split() for key in account_keys.unique() if key}
    holders: dict[str, set[str]] = {}
    for key, words in words_of.items():
        for word in words:
            holders.setdefault(word, set()).add(key)
    return {
        " ".join(words[:n]): key
        for key, words in words_of.items()
        for n in range(1, len(words))
        if len(" ".join(words[:n])) > SHORT_NAME_LENGTH + 1
        and set.intersection(*map(holders.get, words[:n])) == {key}
    }


def _name_outcomes(keys: pd.Series, ranked: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per distinct lead name: winner and runner-up (positions in `ranked`), scores and explanation.

    One extra last row stands for leads with no usable company name.
    """
    nameless = {"winner": -1, "score": np.nan, "runner": -1, "runner_score": np.nan, "method": None}
    nameless["explanation"] = "No match: no account on the lead's domain and no usable company name."
    if ranked.empty:
        return pd.DataFrame([nameless] * (len(keys) + 1))
    scores, rows = _name_scores(keys, ranked), np.arange(len(keys))
    winner = scores.argmax(axis=1)  # the first best is the tie-break winner: accounts are in tie-break order
    best = scores[rows, winner].astype(float)
    scores[rows, winner] = -1  # with a single account the runner-up is the winner again, at -1: none
    runner = scores.argmax(axis=1)
    second = scores[rows, runner].astype(float)
    named, has_runner = best >= threshold, second > 0
    labels = ranked["label"].to_numpy(dtype=object)
    lost = np.where(second == best, _lost_tie_because(ranked, winner, runner), None)
    explanations = [  # one sentence per distinct name, not per lead
        _explain_name(*outcome, threshold)
        for outcome in zip(keys.tolist(), labels[winner], best, labels[runner], second, lost, strict=True)
    ]
    outcomes = pd.DataFrame(
        {
            "winner": np.where(named, winner, -1),
            "score": np.where(named, best, np.nan),
            # a match's runner-up is the second best; an unmatched lead's is its nearest account
            "runner": np.where(named, np.where(has_runner, runner, -1), np.where(best > 0, winner, -1)),
            "runner_score": np.where(named, np.where(has_runner, second, 0), best),
            "method": np.where(named, "name", None),
            "explanation": explanations,
        }
    )
    outcomes["runner_score"] = outcomes["runner_score"].where(outcomes["runner"] >= 0)
    return pd.concat([outcomes, pd.DataFrame([nameless])], ignore_index=True)


def _explain_name(
    company: str, winner: str, best: float, runner: str, second: float, lost: str | None, threshold: float
) -> str:
    if best >= threshold:
        tie = f" lost the tie-break: {lost}" if lost else ""
        runner_up = f"runner-up {runner} at {second:.0f}{tie}" if second > 0 else "no runner-up"
        return f"Matched {winner} by company '{company}', score {best:.0f}; {runner_up}."
    if best > 0:
        return f"No match: company '{company}' is nearest to {winner} at {best:.0f}, below {threshold:.0f}."
    return f"No match: company '{company}' resembles no account name."
