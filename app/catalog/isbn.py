"""ISBNs: stored as ISBN-13; ISBN-10 input is converted; a bad checksum is refused.

Hyphens and spaces are ignored on input ("978-0-306-40615-7" and "0306406152" both give
"9780306406157").
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

SEPARATORS = str.maketrans("", "", "- ")


def isbn10_check_digit(first9: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_check_digit(first12: str) -> str:
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalize_isbn(value: str) -> str:
    """Return the ISBN-13 for an ISBN-10 or ISBN-13, or raise ValidationError saying why."""
    # NFKC turns full-width digits into ASCII ones. Other scripts' digits pass str.isdigit()
    # (and int()) but are not ISBN digits: they would be stored as a second, different
    # spelling of an ISBN that the unique constraint cannot see.
    raw = unicodedata.normalize("NFKC", str(value)).strip().upper().translate(SEPARATORS)
    if not raw.isascii():
        raise ValidationError(
            "An ISBN is made of the digits 0-9 (and X), hyphens and spaces.", code="isbn_format"
        )
    if len(raw) == 10:
        body, check = raw[:9], raw[9]
        if not body.isdigit() or not (check.isdigit() or check == "X"):
            raise ValidationError(
                "An ISBN-10 is 9 digits and a check digit (0-9 or X).", code="isbn_format"
            )
        if isbn10_check_digit(body) != check:
            raise ValidationError(
                f"Invalid ISBN-10 checksum: the check digit should be {isbn10_check_digit(body)}.",
                code="isbn_checksum",
            )
        first12 = "978" + body
        return first12 + isbn13_check_digit(first12)
    if len(raw) == 13:
        if not raw.isdigit():
            raise ValidationError("An ISBN-13 is 13 digits.", code="isbn_format")
        if not raw.startswith(("978", "979")):
            raise ValidationError("An ISBN-13 starts with 978 or 979.", code="isbn_prefix")
        if isbn13_check_digit(raw[:12]) != raw[12]:
            raise ValidationError(
                f"Invalid ISBN-13 checksum: the check digit should be "
                f"{isbn13_check_digit(raw[:12])}.",
                code="isbn_checksum",
            )
        return raw
    raise ValidationError(
        "An ISBN has 10 or 13 characters (hyphens and spaces aside).", code="isbn_length"
    )


def validate_isbn13(value: str) -> None:
    if normalize_isbn(value) != value:
        raise ValidationError("Store ISBNs as ISBN-13 digits.", code="isbn_not_normalized")


class ISBNFormField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs["max_length"] = 20  # room for hyphens; the stored value is 13 digits
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_isbn(value) if value else value


class ISBNField(models.CharField):
    """A CharField holding a normalized ISBN-13."""

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 13
        super().__init__(*args, **kwargs)
        self.validators.append(validate_isbn13)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": ISBNFormField, **kwargs})
