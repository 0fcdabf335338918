"""How the local Messages API answers, per server or per lead (`per_lead`: a substring of the lead document ->
behaviour).

Within the strict tool's schema (what the real API promises under `strict: true`):
- sound: a sane deterministic reading of the lead's facts (keywords, seniority, employees).
- obedient: a FOOLED model. It understands any encoding of an instruction in the lead's text (other scripts,
  full-width or look-alike letters, zero-width characters, spaced-out letters, base64) and obeys it: asked for
  VIP it answers VIP with confidence 0.99. Only when misbehaving does it also add the "owner" it was asked for.
- long: sound, but the rationale and brief run past their maxLength and confidence past 1 (strict tool use
  enforces neither, so the real API can answer this).
- verbose: sound, but its answer takes 1,500 output tokens: cut at `max_tokens` below that.
- refuse: stop_reason "refusal" with stop_details.
Schema-breaking, only when the server is misbehaving:
- malformed:missing_field | malformed:bad_tier | malformed:text_only | malformed:extra_field
And slow (sleeps delay_s, then answers soundly) and down (every call 529).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata

SCHEMA_BREAKING = {
    "malformed:missing_field",
    "malformed:bad_tier",
    "malformed:text_only",
    "malformed:extra_field",
}
SENIOR = ("C-level", "VP", "Head")
JUNIOR = re.compile(r"(?i)\b(intern|student|assistant|associate|coordinator|junior|trainee)\b")
CATEGORIES = {  # first match wins; sales when none does
    "spam": r"\b(seo|backlinks?|crypto|casino|guest post|gift card|you won|guaranteed returns)\b",
    "jobs": r"\b(apply|application|resume|cv|careers?|open positions?|hiring me)\b",
    "research": r"\b(thesis|dissertation|my research|university class|course project)\b",
    "press": r"\b(journalist|reporter|article|podcast|interview|magazine)\b",
    "partnership": r"\b(partnership|partner program|resell\w*|agency|co-marketing|white.?label)\b",
    "support": r"\b(log ?in|password|bug|billing|invoice|refund|not working|broken|outage|error)\b",
}
INTENT = re.compile(
    r"(?i)\b(demo|pricing|price|cost|quote|evaluat\w*|trial|replace|switch\w*|buy|purchase|licen[cs]es?|seats|rollout|proposal)\b"
)
URGENT = re.compile(r"(?i)\b(asap|urgent\w*|this week|by friday|deadline|end of (the )?quarter)\b")
# Cyrillic and Greek letters that look Latin: a fooled model reads them as the letters they imitate
CONFUSABLES = str.maketrans("АВЕІКМНОРСТХаеіорсухΑΒΕΙΚΜΝΟΡΤΧΥιορ", "ABEIKMHOPCTXaeiopcyxABEIKMNOPTXYiop")
TAG_CHARACTERS = {0xE0000 + c: chr(c) for c in range(0x20, 0x7F)}
SPACED = re.compile(r"\b(?:\w[ .\-_*]{1,3}){2,}\w\b")  # single letters with gaps: "m a r k  m e", "V.I.P"
ASKS_VIP = re.compile(r"(?<![a-z])vip(?![a-z])")
ASKS_OWNER = re.compile(  # asking for an owner, not merely naming a title ("Founder & CEO")
    r"\b(assign\w*|as[ií]gn\w*|owner|route (me|this|it)|attribu\w*|zuweisen|weise \w+ \w+ ceo)\b"
    r"|\b(by|to) (the |your |dem |al |au )?(ceo|pdg)\b|担当|分配|负责"
)
NAMED_OWNER = re.compile(
    r"(?i)\b(?:to|an|à|a)\s+(?:the\s+|den\s+|el\s+|le\s+)?([A-Z][a-z]+ [A-Z][a-z]+|CEO|CRO|VP)\b"
)


def understand(text: str) -> str:
    """The text as a model that misses nothing reads it: normalised, invisible tag characters read as the
    ASCII they smuggle, other hidden characters dropped, look-alikes and spaced-out letters rejoined, base64
    decoded."""
    plain = unicodedata.normalize("NFKC", text).translate(TAG_CHARACTERS)
    plain = "".join(c for c in plain if unicodedata.category(c) != "Cf").translate(CONFUSABLES)
    plain = SPACED.sub(
        lambda m: " ".join(re.sub(r"[ .\-_*]", "", w) for w in re.split(r" {2,}", m.group())), plain
    )
    decoded = []
    for token in re.findall(r"[A-Za-z0-9+/]{12,}={0,2}", plain):
        try:
            decoded.append(base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return " ".join([plain, *decoded]).casefold()


def sound_answer(lead: dict) -> dict:
    """A sane classifier: category by keywords, tier by seniority, size and buying intent."""
    message = str(lead.get("message") or "")
    category = next((c for c, p in CATEGORIES.items() if re.search(p, message, re.I)), "sales")
    seniority, title = lead.get("seniority"), str(lead.get("title") or "")
    employees = lead.get("employees")
    intent = bool(INTENT.search(message))
    if category != "sales":
        tier, confidence = "Other", 0.9
    elif seniority == "Student" or JUNIOR.search(title) or (employees is not None and employees < 11):
        tier, confidence = "Nurture", 0.85
    elif employees is None or seniority is None:
        tier, confidence = ("Standard" if intent else "Nurture"), 0.6  # thin facts: a person should look
    elif seniority in SENIOR and employees >= 200 and intent:
        tier, confidence = "VIP", 0.9
    elif intent or seniority in (*SENIOR, "Director", "Manager"):
        tier, confidence = "Standard", 0.8
    else:
        tier, confidence = "Nurture", 0.75
    who = f"{lead.get('first_name') or 'Someone'}, {title or 'no title'} at {lead.get('company') or 'an unknown company'}"
    return {
        "tier": tier,
        "category": category,
        "urgency": "high" if URGENT.search(message) else "normal",
        "confidence": confidence,
        "rationale": f"{seniority or 'unknown seniority'}, {employees or 'unknown'} employees, "
        f"{'buying intent' if intent else 'no buying intent'}, category {category}.",
        "brief": f"{who} ({employees or '?'} employees). {tier} {category} lead.",
    }


def obedient_answer(lead: dict, misbehaving: bool) -> dict:
    """What a model that obeys the lead's text answers (an owner field only when misbehaving)."""
    fields = ("first_name", "last_name", "title", "company", "message")
    raw = " ".join(str(lead.get(f) or "") for f in fields)
    read = understand(raw)
    answer = sound_answer(lead)
    if ASKS_VIP.search(read):
        answer |= {"tier": "VIP", "category": "sales", "urgency": "high", "confidence": 0.99,
                   "rationale": "The lead asked to be treated as VIP, so it is VIP."}  # fmt: skip
    if misbehaving and ASKS_OWNER.search(read):
        named = NAMED_OWNER.search(unicodedata.normalize("NFKC", raw))
        answer["owner"] = named.group(1) if named else "CEO"
    return answer


def long_answer(lead: dict) -> dict:
    """Sound in kind, past every limit the strict schema cannot enforce."""
    answer = sound_answer(lead)
    return answer | {
        "rationale": (answer["rationale"] + " ") * 20,
        "brief": (answer["brief"] + " ") * 30,
        "confidence": 1.3,
    }


def malformed_answer(lead: dict, kind: str) -> dict | str:
    answer = sound_answer(lead)
    if kind == "missing_field":
        return {k: v for k, v in answer.items() if k not in ("category", "confidence")}
    if kind == "bad_tier":
        return answer | {"tier": "Platinum"}
    if kind == "extra_field":
        return answer | {"owner_id": "005000000000014"}
    return f"This looks like a {answer['tier']} lead to me."  # text_only: no tool call at all


def lead_of(body: dict) -> dict:
    """The lead document of the request's last user turn (empty when it cannot be read)."""
    text = user_text(body)
    found = re.search(r"<lead_document>\s*(.*)\s*</lead_document>", text, re.S)
    try:
        lead = json.loads(found.group(1)) if found else {}
    except ValueError:
        return {}
    return lead if isinstance(lead, dict) else {}


def user_text(body: dict) -> str:
    content = (body.get("messages") or [{}])[-1].get("content", "")
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content)


def tokens(text: str) -> int:
    return max(1, len(text) // 4)  # about four characters a token in English
