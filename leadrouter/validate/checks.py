"""Per-value checks behind the validation suite: email syntax, phone numbers to E.164, test and mashed text.

Callers run them on distinct values only; `ContactChecks` spreads the slow library calls (email-validator,
phonenumbers) over worker processes when a batch is large. Kept free of pandas so the workers start light.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

log = logging.getLogger(__name__)

PARALLEL_FROM = (
    20_000  # distinct values: below this, handing work to worker processes costs more than it saves
)
CHUNKS_PER_WORKER = 4  # a few chunks each, so a worker that finishes early picks up more
EMAIL_MAX_LENGTH = 254  # RFC 5321; email-validator rejects longer addresses too, after more work
PHONE_MAX_LENGTH = 250  # phonenumbers refuses longer input; no need to ship megabytes to a worker

# junk detection works on casefolded text; a mash is a run of neighbouring keys, one key held down,
# a chunk typed over and over, or a word without vowels
_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn"]
_KEY_RUNS = sorted({row[i : i + 5] for row in _ROWS + [r[::-1] for r in _ROWS] for i in range(len(row) - 4)})
_LETTER = r"[^\W\d_]"
_MASH = re.compile(
    "|".join(
        [
            "|".join([*_KEY_RUNS, "asdf", "qwer", "zxcv"]),
            rf"({_LETTER})\1{{4}}",  # one key held: "aaaaa"
            rf"({_LETTER}{{2,3}})\2\2",  # a chunk typed thrice: "asdasdasd", "sdsdsd"
            rf"(?<!{_LETTER})[bcdfghjklmnpqrstvwxz]{{6,}}(?!{_LETTER})",  # a word without vowels: "sdfghj"
            r"[bcdfghjklmnpqrstvxz]{9}",  # nine consonants running: German stops at eight ("Angstschrei")
        ]
    )
)
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# a plain ASCII address, accepted as email-validator would (tests hold it to that): most addresses are
# plain, so only the rest goes through the library
_PLAIN_EMAIL = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+{_LABEL}(?<=[A-Za-z])")
_SPECIAL_USE = re.compile(r"(?:^|\.)(?:" + "|".join(map(re.escape, SPECIAL_USE_DOMAIN_NAMES)) + r")\Z")

PLACEHOLDER_NAMES = frozenset(
    "test testing tester asdf asdfgh qwerty xxx xxxx aaa zzz dummy fake sample placeholder firstname lastname".split()
) | {"first name", "last name", "your name", "lorem ipsum", "test test"}
PLACEHOLDER_COMPANIES = frozenset(
    """test testing testco asdf qwerty xxx xxxx aaa zzz dummy fake sample placeholder n/a na none null nil
    unknown company foo foobar""".split()
) | {
    "test test", "test company", "test inc", "test ltd", "test co", "company name", "your company", "my company",
    "lorem ipsum",
}  # fmt: skip
PLACEHOLDER_FULL_NAMES = frozenset(
    {
        "mickey mouse", "minnie mouse", "donald duck", "daffy duck", "bugs bunny", "john doe", "jane doe",
        "joe bloggs", "test test", "test user", "first last", "firstname lastname", "first name last name",
        "foo bar", "asdf asdf",
    }
)  # fmt: skip


def fold_text(value: str) -> str:
    """Casefolded, single-spaced, without surrounding punctuation: how junk lists and patterns see text."""
    return " ".join(value.casefold().split()).strip(" .,;:!?'\"-_*#~()[]{}<>")


def is_mash(folded: str) -> bool:
    """Keyboard mash: "sdfghjkl", "aaaaaa", "asdasdasd", "qwrtzp"."""
    return _MASH.search(folded) is not None


def is_junk_name(value: str) -> bool:
    """A test, placeholder or mashed first or last name; blanks and bare punctuation read as missing, not junk."""
    folded = fold_text(value)
    return folded in PLACEHOLDER_NAMES or is_mash(folded)


def is_junk_company(value: str) -> bool:
    """A test, placeholder or mashed company; unlike a name, a company of bare punctuation ("-") is junk."""
    folded = fold_text(value)
    no_word = bool(value.strip()) and not any(ch.isalnum() for ch in value)
    return no_word or folded in PLACEHOLDER_COMPANIES or is_mash(folded)


def email_is_valid(value: str) -> bool:
    """Whether email-validator accepts the address as typed (syntax only: no DNS)."""
    if len(value) > EMAIL_MAX_LENGTH:
        return False
    if _plainly_valid(value):
        return True
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    except Exception:  # a validator bug on odd input must not fail the batch: the address is not usable
        log.debug("email-validator raised on %r", value[:80], exc_info=True)
        return False
    return True


def _plainly_valid(email: str) -> bool:
    """A plain ASCII address that email-validator accepts, decided without it (about 20x faster)."""
    if not _PLAIN_EMAIL.fullmatch(email):
        return False
    domain = email.rpartition("@")[2].lower()
    return "--" not in domain and not _SPECIAL_USE.search(domain)  # "xn--" and the like: the library decides


def phone_e164(value: str, region: str | None) -> str | None:
    """The number in E.164 ("+4930123456"), or None when it does not parse to a valid number.

    region: the lead's ISO alpha-2 country, used for numbers written without a country code.
    """
    if len(value) > PHONE_MAX_LENGTH:
        return None
    try:
        number = phonenumbers.parse(value, region)
        # valid for the lead's own country implies valid; asking that first skips a search over every
        # country sharing the code (+1 has 25)
        valid_here = bool(region) and phonenumbers.is_valid_number_for_region(number, region)
        if not (valid_here or phonenumbers.is_valid_number(number)):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return None
    except Exception:  # as above: odd input gives no number, never a failed batch
        log.debug("phonenumbers raised on %r", value[:80], exc_info=True)
        return None


class ContactChecks:
    """email_is_valid for each email and phone_e164 for each (phone, region) pair, in order.

    Pass distinct values. From PARALLEL_FROM values the work goes to worker processes at once, handed over
    by a thread (the first time, starting the workers takes a while), so the caller can prepare other
    columns meanwhile; result() collects it. Smaller batches run in result(), in this process.
    """

    def __init__(self, emails: list[str], phones: list[tuple[str, str | None]]) -> None:
        self.emails, self.phones = emails, phones
        self._parts: tuple[list[Future], list[Future]] | None = None
        self._handover: threading.Thread | None = None
        workers = os.cpu_count() or 1
        if len(emails) + len(phones) >= PARALLEL_FROM and workers > 1:
            self._handover = threading.Thread(target=self._submit, args=(workers,), name="contact-checks")
            self._handover.start()

    @property
    def in_workers(self) -> bool:
        """Whether the work went (or is going) to worker processes."""
        return self._handover is not None

    def result(self) -> tuple[list[bool], list[str | None]]:
        """The verdicts, in the order given; from the workers when they delivered, else worked out here."""
        if self._handover is not None:
            self._handover.join()
        if self._parts is not None:
            email_parts, phone_parts = self._parts
            try:
                valid = list(chain.from_iterable(part.result() for part in email_parts))
                return valid, list(chain.from_iterable(part.result() for part in phone_parts))
            except Exception as exc:  # a worker died (killed, out of memory): slower, still complete
                log.warning("contact checks in worker processes failed, checking in-process: %s", exc)
                _discard_pool()
        return _emails_valid(self.emails), _phones_e164(self.phones)

    def _submit(self, workers: int) -> None:
        """Chunks to the workers, phones first (they are the slow part); on failure result() checks here."""
        size = max(1, -(-(len(self.emails) + len(self.phones)) // (workers * CHUNKS_PER_WORKER)))
        try:
            pool = _pool(workers)
            phones = [
                pool.submit(_phones_e164, self.phones[i : i + size]) for i in range(0, len(self.phones), size)
            ]
            emails = [
                pool.submit(_emails_valid, self.emails[i : i + size])
                for i in range(0, len(self.emails), size)
            ]
            self._parts = (emails, phones)
        except Exception as exc:  # no worker processes on this host
            log.warning("could not start worker processes for contact checks: %s", exc)
            _discard_pool()


_POOL_LOCK = threading.Lock()
_POOL: dict[int, ProcessPoolExecutor] = {}  # by process id: a forked child must not use its parent's pool


def _pool(workers: int) -> ProcessPoolExecutor:
    """The worker processes, started on first use and kept: starting them costs more than a batch's checks."""
    with _POOL_LOCK:
        if os.getpid() not in _POOL:
            _POOL.clear()
            context = _worker_context()
            _POOL[os.getpid()] = ProcessPoolExecutor(workers, context, initializer=_load_phone_metadata)
        return _POOL[os.getpid()]


def _discard_pool() -> None:
    with _POOL_LOCK:
        pool = _POOL.pop(os.getpid(), None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _load_phone_metadata() -> None:
    """Every country's phone metadata, loaded once per worker instead of lazily inside each batch."""
    phonenumbers.PhoneMetadata.load_all()


def _emails_valid(emails: list[str]) -> list[bool]:
    return [email_is_valid(email) for email in emails]


def _phones_e164(phones: list[tuple[str, str | None]]) -> list[str | None]:
    return [phone_e164(phone, region) for phone, region in phones]


def _worker_context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one: forking a threaded process (a Prefect worker) can deadlock the child."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # the server imports these once and forks each worker from itself: the default "__main__" (which
    # workers would otherwise each import) and this module
    context.set_forkserver_preload(["__main__", __name__])
    return context
