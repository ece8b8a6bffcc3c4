"""Payees: who is paid. Identity, tax declaration and bank details, encrypted at rest, shown masked.

Encryption is AES-256-GCM (`cryptography`) with the key from PAYEE_ENCRYPTION_KEY (urlsafe base64
of 32 bytes; several comma-separated keys rotate: the first encrypts, any decrypts). Each value is
bound to its user and field as associated data, so a ciphertext copied onto another row or column
does not decrypt. Without a key, payee data cannot be written or read (503), except under TESTING.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.audit.services import record
from marketplace.countries import country_problems
from marketplace.db import utcnow
from marketplace.errors import DomainError, ValidationFailed
from marketplace.extensions import db
from marketplace.payments.models import PayeeProfile

TAX_FORMS = ("W-9", "W-8BEN", "none")
_ENVELOPE_VERSION = b"\x01"
# Used only when TESTING and no key is configured: never for real data.
_TEST_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"innobridge-test-payee-key").digest()).decode()
_SWIFT = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_ACCOUNT = re.compile(r"^[A-Z0-9][A-Z0-9 -]{3,41}$")
_US_TIN = re.compile(r"^\d{3}-?\d{2}-?\d{4}$|^\d{2}-?\d{7}$")  # SSN/ITIN or EIN
_FOREIGN_TIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,39}$")


class EncryptionUnavailable(DomainError):
    status = 503
    title = "Service unavailable"


# --- encryption --------------------------------------------------------------------------


def _parse_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("PAYEE_ENCRYPTION_KEY must be urlsafe base64") from error
    if len(key) != 32:
        raise ValueError("PAYEE_ENCRYPTION_KEY must encode 32 bytes (AES-256)")
    return key


class PayeeCipher:
    """Envelope: version byte, 4-byte key fingerprint, 12-byte nonce, ciphertext with its GCM tag."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one key is needed")
        self._keys = {hashlib.sha256(key).digest()[:4]: AESGCM(key) for key in keys}
        self._current = hashlib.sha256(keys[0]).digest()[:4]

    @classmethod
    def from_setting(cls, setting: str) -> PayeeCipher:
        return cls([_parse_key(part) for part in setting.split(",") if part.strip()])

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _ENVELOPE_VERSION + self._current + nonce + sealed

    def decrypt(self, envelope: bytes, context: str) -> str:
        if len(envelope) < 1 + 4 + 12 + 16 or envelope[:1] != _ENVELOPE_VERSION:
            raise ValueError("not a payee-data envelope")
        aead = self._keys.get(envelope[1:5])
        if aead is None:
            raise ValueError("encrypted with a key that is no longer configured")
        try:
            return aead.decrypt(envelope[5:17], envelope[17:], context.encode("utf-8")).decode("utf-8")
        except InvalidTag as error:
            raise ValueError("payee data does not decrypt (tampered, or bound to another field)") from error


def cipher() -> PayeeCipher:
    setting = current_app.config.get("PAYEE_ENCRYPTION_KEY") or (_TEST_KEY if current_app.testing else None)
    if not setting:
        current_app.logger.error("PAYEE_ENCRYPTION_KEY is not set: payee data cannot be stored")
        raise EncryptionUnavailable(_l("Payee details cannot be stored right now. Please try again later."))
    return PayeeCipher.from_setting(setting)


def _context(user_id: int, field: str) -> str:
    return f"innobridge:payee:{user_id}:{field}"


# --- reading -----------------------------------------------------------------------------


def profile_of(user) -> PayeeProfile | None:
    return db.session.get(PayeeProfile, user.id)


def decrypted(profile: PayeeProfile) -> dict:
    """The clear values (for the wire instruction a finance officer sends): never put in a response."""
    box = cipher()
    bank = profile.bank_details_enc and json.loads(box.decrypt(profile.bank_details_enc,
                                                               _context(profile.user_id, "bank_details")))
    return {
        "legal_name": box.decrypt(profile.legal_name_enc, _context(profile.user_id, "legal_name")),
        "residence_country": profile.residence_country,
        "date_of_birth": date.fromisoformat(box.decrypt(profile.date_of_birth_enc,
                                                        _context(profile.user_id, "date_of_birth"))),
        "tax_form": profile.tax_form,
        "tax_id": profile.tax_id_enc and box.decrypt(profile.tax_id_enc, _context(profile.user_id, "tax_id")),
        "bank_account": bank or None,
    }


def _mask_name(name: str) -> str:
    return " ".join(word[0] + "*****" for word in name.split())


def _last4(value: str) -> str:
    compact = re.sub(r"[\s-]", "", value)
    return "****" + compact[-4:]


def masked(profile: PayeeProfile) -> dict:
    """What pages and the API show: enough to recognise one's data, too little to misuse it."""
    clear = decrypted(profile)
    bank = clear["bank_account"]
    return {
        "legal_name": _mask_name(clear["legal_name"]),
        "residence_country": profile.residence_country,
        "date_of_birth": f"****-**-{clear['date_of_birth'].day:02d}",
        "tax_form": profile.tax_form,
        "tax_id": _last4(clear["tax_id"]) if clear["tax_id"] else None,
        "bank_account": {"bank_name": bank.get("bank_name") or None, "account_number": _last4(bank["account_number"]),
                         "swift_bic": bank["swift_bic"][:4] + "****"} if bank else None,
        "updated_at": (profile.updated_at or profile.created_at).isoformat(),
    }


# --- writing -----------------------------------------------------------------------------


def _iban_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _check_bank(bank: dict, errors: dict) -> dict | None:
    account_number = re.sub(r"\s+", "", str(bank.get("account_number") or "")).upper()
    swift = str(bank.get("swift_bic") or "").strip().upper()
    bank_name = str(bank.get("bank_name") or "").strip()
    holder = str(bank.get("account_holder") or "").strip()
    if not _ACCOUNT.match(account_number):
        errors["bank_account.account_number"] = [_l("Give the IBAN or account number (letters and digits).")]
    elif re.match(r"^[A-Z]{2}\d{2}", account_number) and len(account_number) >= 15 and not _iban_valid(account_number):
        errors["bank_account.account_number"] = [_l("This IBAN's check digits are wrong.")]
    if not _SWIFT.match(swift):
        errors["bank_account.swift_bic"] = [_l("Give the bank's SWIFT/BIC code (8 or 11 characters).")]
    if len(bank_name) > 120 or len(holder) > 200:
        errors["bank_account.bank_name"] = [_l("Use at most 120 characters.")]
    return {"account_number": account_number, "swift_bic": swift, "bank_name": bank_name, "account_holder": holder}


def _check(data: dict) -> dict:
    errors: dict[str, list] = {}
    legal_name = " ".join(str(data.get("legal_name") or "").split())
    if len(legal_name) < 2 or len(legal_name) > 200 or not any(ch.isalpha() for ch in legal_name):
        errors["legal_name"] = [_l("Give your full legal name as on your identity document.")]
    country = str(data.get("residence_country") or "").upper()
    if country_problems(country):
        errors["residence_country"] = country_problems(country)
    born = data.get("date_of_birth")
    today = date.today()
    if not isinstance(born, date):
        errors["date_of_birth"] = [_l("Give your date of birth (YYYY-MM-DD).")]
    elif born.year < 1900 or born > today:
        errors["date_of_birth"] = [_l("This date of birth is not possible.")]
    elif (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < 18:
        errors["date_of_birth"] = [_l("Awards are paid to adults only (18 or older).")]
    tax_form = data.get("tax_form")
    tax_id = str(data.get("tax_id") or "").strip() or None
    if tax_form not in TAX_FORMS:
        errors["tax_form"] = [_l("Choose W-9, W-8BEN or none.")]
    elif tax_form == "W-9" and not (tax_id and _US_TIN.match(tax_id)):
        errors["tax_id"] = [_l("A W-9 needs your US taxpayer number (SSN, ITIN or EIN).")]
    elif tax_form == "W-8BEN" and country == "US":
        errors["tax_form"] = [_l("W-8BEN is for people who are not US residents; US residents give a W-9.")]
    elif tax_id and not _FOREIGN_TIN.match(tax_id):
        errors["tax_id"] = [_l("Use letters, digits, spaces, dots, dashes or slashes.")]
    bank = data.get("bank_account")
    cleaned_bank = _check_bank(bank, errors) if isinstance(bank, dict) else None
    if errors:
        raise ValidationFailed(_l("Some payee details are not valid."), errors=errors)
    return {"legal_name": legal_name, "residence_country": country, "date_of_birth": born, "tax_form": tax_form,
            "tax_id": tax_id, "bank_account": cleaned_bank, "bank_given": "bank_account" in data}


def country_differs(user, residence_country: str | None) -> bool:
    """A payee country other than the account's country: the page asks the solver to confirm it."""
    return bool(residence_country and user.country and residence_country.upper() != user.country.upper())


def save_payee(user, data: dict) -> PayeeProfile:
    """Create or replace the payee declaration. Bank details stay unless `bank_account` is sent (null clears)."""
    clean = _check(data)
    box = cipher()
    profile = profile_of(user)
    if profile is None:
        profile = PayeeProfile(user_id=user.id)
        db.session.add(profile)
    profile.legal_name_enc = box.encrypt(clean["legal_name"], _context(user.id, "legal_name"))
    profile.residence_country = clean["residence_country"]
    profile.date_of_birth_enc = box.encrypt(clean["date_of_birth"].isoformat(), _context(user.id, "date_of_birth"))
    profile.tax_form = clean["tax_form"]
    profile.tax_id_enc = clean["tax_id"] and box.encrypt(clean["tax_id"], _context(user.id, "tax_id"))
    if clean["bank_given"]:
        profile.bank_details_enc = clean["bank_account"] and box.encrypt(
            json.dumps(clean["bank_account"], sort_keys=True), _context(user.id, "bank_details"))
    profile.updated_at = utcnow()
    db.session.flush()
    record("payee.updated", "user", user.id, actor=user, residence_country=profile.residence_country,
           tax_form=profile.tax_form, has_tax_id=profile.tax_id_enc is not None,
           has_bank_details=profile.bank_details_enc is not None)
    from marketplace.awards.winner_notices import announce_user  # awards import payments: a late import

    announce_user(user)  # e.g. "add a payout account next", once per award
    return profile
