"""What counts as one email address: normalised, checked for tricks, split into delivery and lookup forms."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import email_validator
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email

from newsletter.translations import N_
from subscribers.errors import AddressError

# RFC 5321 allows 254 characters in a path; anything much longer is refused before any parsing.
MAX_LENGTH = 254
# RFC 5321 4.5.3.1.1: the local part is at most 64 octets; servers may refuse longer ones.
MAX_LOCAL_OCTETS = 64
# RFC 2047 encoded words belong in headers' display text; as an "address" they are a header pasted in.
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bq]\?[^?\s]*\?=", re.IGNORECASE)
NEEDS_SMTPUTF8 = N_("This address has letters outside a-z before the @, and our mail server cannot deliver to "
                    "such addresses. Please use an address with plain letters before the @.")
# Alphabets whose letters pass for each other; one part of an address mixing them is a look-alike.
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


@dataclass(frozen=True, repr=False)
class Address:
    """A normalised address; repr hides it so it cannot slip into a log or a traceback."""

    deliver: str   # for RCPT TO and To: (IDN domain in its xn-- form)
    lookup: str    # the blind-index input: lower case, Unicode domain, so every spelling finds one row
    smtputf8: bool

    def __repr__(self) -> str:
        return "Address(<hidden>)"


def parse(text: str, *, dns_checks: bool = False, dns_timeout: int = 5, smtputf8: bool = True) -> Address:
    """The address in `text`, or AddressError saying what is wrong.

    Args:
        text: what someone typed or a file held; surrounding white space is ignored.
        dns_checks: also ask DNS whether the domain accepts mail.
        dns_timeout: seconds to wait for DNS.
        smtputf8: accept a local part that is not ASCII, which only a relay offering SMTPUTF8 can deliver
            (an international domain alone is fine either way: it travels in its xn-- form).

    Raises:
        AddressError: `plausible` is False for text that is not an address at all (show the reason),
            True for a well-formed address that cannot receive mail (answer as if accepted).
    """
    candidate = text.strip()
    _precheck(candidate)
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise AddressError(_reason(error), plausible=_special_use(candidate)) from None
    if valid.smtputf8 and not smtputf8:
        raise AddressError(NEEDS_SMTPUTF8)
    if dns_checks:
        resolver = email_validator.caching_resolver(timeout=dns_timeout)
        try:
            validate_email(candidate, check_deliverability=True, dns_resolver=resolver)
        except EmailUndeliverableError:
            raise AddressError(N_("The domain of this address does not accept email."), plausible=True) from None
        except EmailNotValidError as error:
            raise AddressError(_reason(error)) from None
    local, domain = valid.local_part, valid.domain
    deliver = valid.ascii_email or f"{local}@{valid.ascii_domain}"
    return Address(deliver=deliver, lookup=f"{local.lower()}@{domain.lower()}", smtputf8=valid.smtputf8)


def _precheck(candidate: str) -> None:
    if not candidate:
        raise AddressError(N_("Enter your email address, as in name@example.org."))
    if len(candidate) > MAX_LENGTH:
        raise AddressError(f"That is too long for an email address (at most {MAX_LENGTH} characters).")
    if any(unicodedata.category(c) == "Cc" for c in candidate):
        raise AddressError(N_("An email address cannot contain line breaks or other control characters."))
    if "<" in candidate or ">" in candidate:
        raise AddressError(N_("Type the address alone, without a name or angle brackets."))
    if any(c.isspace() for c in candidate):
        raise AddressError(N_("An email address cannot contain spaces."))
    at_signs = candidate.count("@")
    if at_signs == 0:
        raise AddressError(N_("An email address needs an @ sign, as in name@example.org."))
    if at_signs > 1:
        raise AddressError(N_("An email address has exactly one @ sign."))
    local, domain = candidate.split("@")
    if _ENCODED_WORD.search(local):
        raise AddressError("That is an encoded word (=?charset?encoding?text?=), not an email address; "
                           "type the address itself.")
    octets = len(local.encode("utf-8", "surrogatepass"))
    if octets > MAX_LOCAL_OCTETS:
        raise AddressError(f"The part before the @ is too long: at most {MAX_LOCAL_OCTETS} bytes (here {octets}).")
    for part in (local, *domain.split(".")):
        if unicodedata.normalize("NFKC", part) != unicodedata.normalize("NFC", part):
            raise AddressError(N_("The address uses full-width or other stand-in forms of letters; "
                                  "type it with ordinary letters."))
        scripts = {_script(c) for c in part if c.isalpha()} & _CONFUSABLE_SCRIPTS
        if len(scripts) > 1:
            raise AddressError("The address mixes letters from different alphabets ("
                               + " and ".join(s.title() for s in sorted(scripts))
                               + "), which is how look-alike addresses are made.")


def _script(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _special_use(candidate: str) -> bool:
    """True when the only fault is a reserved domain (.test, .invalid, .localhost...)."""
    local, _, domain = candidate.rpartition("@")
    top = domain.rstrip(".").rsplit(".", 1)[-1].lower()
    if top not in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        return False
    try:
        validate_email(f"{local}@example.org", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _reason(error: EmailNotValidError) -> str:
    # email-validator names the faulty characters but never repeats the address; keep its wording.
    return str(error)
