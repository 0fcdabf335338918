"""Job-title seniority: what a sales team would call the level of the person who filled in the form.

Labels, highest first: C-level, VP, Director, Head, Manager, Individual contributor, Student.

Policy where titles are ambiguous (tests/data/job_titles.csv is labelled to it):
- C-level also covers founders, owners, presidents, (managing/senior) partners, managing directors,
  board members and chairs, and the non-English top titles (Geschäftsführer, Vorstand, Directeur général,
  Director General, Gerente General, PDG, 代表取締役, 社長, 总经理, 대표이사).
- "Head of …", German "…leiter" and "Leitung", Spanish "Jefe de …" and French "Chef de service" are Head;
  Head sits below Director in SENIORITIES but a title naming both is called Head (the rules check it first).
- Account-carrying sales and success roles whose "manager" names a book of accounts, not a team
  (Account / Key Account / Customer Success / Client / Relationship / Territory / Partner / Channel /
  Business Development Manager, Gerente de cuentas) are Individual contributors; other "Manager" titles
  are Manager.
- Team leads, supervisors and foremen are Manager; "Tech Lead" and "Lead Developer" are senior ICs.
- Assistants and secretaries *to* an executive are ICs; "Assistant Manager/Director/Vice President" keep
  the level they assist in; "Chief of Staff" is Director; "Product/Process Owner" and HR or talent
  "Business Partner" are ICs.
- Students, interns, working students, trainees, apprentices, PhD/MBA candidates and graduate assistants
  are Student.
- Text with at least one letter that no rule recognises is Individual contributor: most unrecognised
  titles are specific IC jobs ("Cashier", "Paralegal"). Null, empty, letterless ("-", "123") and known
  placeholder or keyboard-mash values ("N/A", "asdf", "test", "xxx") are <NA>, as is anything that is
  not a string.

The rules read normalised text in which every word has exactly one space on each side (" vp sales "),
so a literal space is the word boundary: unlike \\b it lets the regex engine skip straight to candidate
positions, several times faster on the big alternations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SENIORITIES = ("C-level", "VP", "Director", "Head", "Manager", "Individual contributor", "Student")
C_LEVEL, VP, DIRECTOR, HEAD, MANAGER, IC, STUDENT = SENIORITIES

# no real job title is this long; cutting first bounds the work done on pasted essays
MAX_TITLE_CHARS = 200

# C-suite acronyms, also used to spot the assistants of their holders
_CXO = r"(?:ceo|cfo|cto|coo|cmo|cro|ciso|cio|cdo|cpo|cco|chro|cso|cao|cdao|cbo|clo|cno|cxo|cgo)"

# staff who serve students ("Student Success Manager") are not students
_NOT_STUDENT_SERVICE = (
    r"(?! (?:success|affairs|services|recruitment|experience|enrol?lment|life|support|engagement|records"
    r"|finance|housing) )"
)
STUDENT_TITLE = (
    rf" (?:students?{_NOT_STUDENT_SERVICE}|studentin|werkstudent(?:in)?|estudiante|estudante|etudiante?"
    r"|interns?|internship|praktikant(?:in)?|stagiaire|alternante?|becari[oa]|practicante|pasante|tirocinante|estagiari[oa]"
    r"|undergrad(?:uate)?|doktorand(?:in)?|trainee|apprentice|azubi|auszubildende[r]?"
    r"|(?:phd|doctoral|graduate|grad|mba|master s|masters?|bachelor s|bachelors?) (?:candidate|student)"
    r"|graduate (?:teaching |research )?assistant) |学生|实习生|インターン|인턴|학생"
)
# their boss's title is in theirs, so these must win over every level rule
ASSISTANT_TO = (
    rf" (?:(?:assistant|asst|secretary) (?:to|of)|(?:ea|pa) to|{_CXO} (?:executive )?(?:assistant|asst)"
    r"|(?:executive|exec|personal|administrative|admin|virtual) (?:assistant|asst)|assistante? (?:de|du|des)"
    r"|assistante|asistente|secretaire) |assisten[tz]|sekretar"
)
# lookbehinds sit after a literal so that the engine only evaluates them at candidate words
_NOT_OWNER = "".join(f"(?<! {word} )" for word in ("product", "process", "data", "service", "risk", "system"))
_NOT_PARTNER_AFTER = (
    r"(?! (?:manager|marketing|account|success|sales|development|engineer|program|enablement|solutions"
    r"|specialist|associate|relations|operations|ops|lead|director|executive|integrations?) )"
)
_NOT_PARTNER_BEFORE = "".join(
    f"(?<! {word} )"
    for word in ("business", "acquisition", "talent", "people", "hr", "finance", "channel", "strategic")
)
C_LEVEL_TITLE = (
    rf" (?:{_CXO}|chief (?:\w+ ){{0,4}}officer|chief executive|(?<!vice )pr[ae]sident[ea]?|pdg"
    r"|fondat(?:eur|rice)|fundadora?|owner operator|inhaber(?:in)?|teilhaber(?:in)?|gesellschafter(?:in)?"
    r"|propietari[oa]|proprietaire|soci[oa]|associee?|managing dir(?:ector)?|board (?:member|director)"
    r"|member of the board|board of directors|chair of the board|(?:vice )?chair(?:man|woman|person)"
    r"|(?:non executive|independent) director|direct(?:eur|rice) generale?|directora? general"
    r"|gerente genera?l|diretora? geral|vorstand\w*) "
    rf"| {_NOT_OWNER}owners? | {_NOT_PARTNER_BEFORE}partner{_NOT_PARTNER_AFTER} "
    r"|founder|grunder|geschaftsfuhr(?:er|erin|ung|end)|geschaeftsfuehr"
    r"|取締役|社長(?<!副社長)|会長|总裁(?<!副总裁)|总经理|首席执行官|董事长|创始人|創業者|대표|사장(?<!부사장)"
)
VP_TITLE = r" (?:[saegrc]?vps?|vice pres\w*|vicepresident[ea]?|vizeprasident(?:in)?) |副社長|副总裁|부사장"
HEAD_TITLE = (
    r" (?:head (?!office |quarters )|hd of |leitung |hoofd |jef[ae] de (?!(?:proyectos?|equipo|turno|obra) )"
    r"|chef de (?:service|departement|cuisine) |chef des ventes )"
    r"|leiter(?<!teamleiter)(?<!projektleiter)(?<!gruppenleiter)(?<!filialleiter)(?<!schichtleiter)"
    r"(?<!bauleiter)(?:in)? |部長"
)
DIRECTOR_TITLE = (
    r" (?:(?:sub)?directora?|directrice|directeur|diretora?|direttore|direttrice|dyrektor|dir|chief of staff) "
    r"|direktor(?:in)? |总监"
)
# people managers whose title does not say "manager"
TEAM_LEAD_TITLE = (
    r" (?:team ?lead(?:er)?|(?:squad|group) lead(?:er)?|supervis(?:or|ora|eur)|fore(?:man|woman)"
    r"|chef(?:fe)? de (?:projet|produit)|chef d equipe|jef[ae] de (?:proyectos?|equipo|turno|obra)|responsable) "
    r"|leiter(?:(?<=teamleiter)|(?<=projektleiter)|(?<=gruppenleiter)|(?<=filialleiter)|(?<=schichtleiter)"
    r"|(?<=bauleiter))(?:in)? |課長|과장"
)
# "manager" of a book of accounts, not of people: see the module docstring
ACCOUNT_MANAGER = (
    r" (?:(?:account|customer success|client success|client|relationship|territory|partner|channel"
    r"|business development) manager|gerente de cuentas?) "
)
MANAGER_TITLE = r"manager(?:in)?s? | (?:mgr|mngr|gerente|gerenta|encargad[oa]) |经理|マネー?ジャー"

PLACEHOLDER = (
    r" (?:asdf\w*|qwert\w*|test(?:ing)?(?: \d+)?|n ?a|none|null|nil|nan|undefined|unknown|tbd|tba|x+|no"
    r"|others?|misc|mr|mrs|ms|miss|title|job title|your title|position|not applicable|not provided"
    r"|no title|abc|xyz|blah|foo|bar|foobar|lol|\w|[asdfghjkl]+) "
)
HAS_LETTER = r"[^\W\d_]"

# first match wins: the order is the policy, so change it only together with the docstring
RULES: tuple[tuple[str, str], ...] = (
    (STUDENT_TITLE, STUDENT),
    (ASSISTANT_TO, IC),
    (C_LEVEL_TITLE, C_LEVEL),
    (VP_TITLE, VP),
    (HEAD_TITLE, HEAD),
    (DIRECTOR_TITLE, DIRECTOR),
    (TEAM_LEAD_TITLE, MANAGER),
    (ACCOUNT_MANAGER, IC),
    (MANAGER_TITLE, MANAGER),
)


def _as_text(titles: pd.Series) -> pd.Series:
    """The titles as a "string" Series; values that are not strings (numbers, bools, lists) become <NA>."""
    if isinstance(titles.dtype, pd.StringDtype):
        return titles.astype("string")
    # astype("string") would turn 42 into "42" and True into "True": a title has to be typed as text
    is_text = titles.map(type).isin([str, np.str_])
    return titles.where(is_text).astype("string")


def _fold_accents(text: pd.Series) -> pd.Series:
    """Accents stripped (é → e) and compatibility forms folded (ＣＥＯ → CEO), kana such as ジ kept whole."""
    # NFKD splits characters from their accents; NFC afterwards re-joins what NFKD split in kana
    return text.str.normalize("NFKD").str.replace("[\u0300-\u036f]", "", regex=True).str.normalize("NFC")


def normalise_titles(titles: pd.Series) -> pd.Series:
    """Casefolded, accent-free words, each with one space either side (" head of sales "); CJK kept."""
    text = _as_text(titles).str.slice(0, MAX_TITLE_CHARS)
    non_ascii = ~text.str.isascii().fillna(True).to_numpy(dtype=bool)
    text[non_ascii] = _fold_accents(text[non_ascii]).array
    # join dotted acronyms (c.e.o., v.p.) before dots become spaces
    text = text.str.casefold().str.replace(r"\.(?<=\b\w\.)(?=\w\b)", "", regex=True)
    return (" " + text + " ").str.replace(r"[\W_]+", " ", regex=True)


def _seniority_of_distinct(text: pd.Series) -> np.ndarray:
    """Labels (object array, None for no title) of normalised, distinct titles."""
    matches = [text.str.contains(pattern) for pattern, _ in RULES]
    looks_like_a_job = text.str.contains(HAS_LETTER) & ~text.str.fullmatch(PLACEHOLDER)
    labels = np.array([label for _, label in RULES] + [IC, None], dtype=object)
    # np.select keeps the first true condition per title; the last label (None) is the no-title default
    conditions = [m.to_numpy(dtype=bool) for m in [*matches, looks_like_a_job]]
    return labels[np.select(conditions, np.arange(len(conditions)), default=len(conditions))]


def seniority_of(titles: pd.Series) -> pd.Series:
    """The seniority label of each job title (one of SENIORITIES), <NA> where there is no usable title."""
    # CRM titles repeat heavily ("CEO", "Owner"), so classify each distinct spelling once
    codes, distinct = pd.factorize(_as_text(titles))
    labels = _seniority_of_distinct(normalise_titles(pd.Series(distinct, dtype="string")))
    # code -1 (a missing title) picks the appended None
    return pd.Series(np.append(labels, None)[codes], index=titles.index, dtype="string", name=titles.name)
