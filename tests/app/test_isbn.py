import pytest
from django.core.exceptions import ValidationError

from catalog.isbn import ISBNFormField, normalize_isbn, validate_isbn13


@pytest.mark.parametrize(
    ("given", "isbn13"),
    [
        ("9780306406157", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("0306406152", "9780306406157"),  # ISBN-10 -> ISBN-13
        ("0-306-40615-2", "9780306406157"),
        ("080442957X", "9780804429573"),  # check digit X
        ("080442957x", "9780804429573"),
        (" 0 8044 2957 X ", "9780804429573"),
        ("9791090636071", "9791090636071"),  # 979 prefix
        ("０３０６４０６１５２", "9780306406157"),  # full-width digits: the ASCII ISBN, not a twin
    ],
)
def test_valid_isbns_normalize_to_isbn13(given, isbn13):
    assert normalize_isbn(given) == isbn13


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("9780306406158", "ISBN-13 checksum"),
        ("0306406153", "ISBN-10 checksum"),
        ("12345", "10 or 13 characters"),
        ("97803064061577", "10 or 13 characters"),
        ("978030640615A", "13 digits"),
        ("03064061X2", "9 digits and a check digit"),
        ("9770306406150", "starts with 978 or 979"),
        ("", "10 or 13 characters"),
        ("٩٧٨٠٣٠٦٤٠٦١٥٧", "digits 0-9"),  # Arabic-Indic digits pass str.isdigit()
        ("978０３０６４０６１５7\u0663", "digits 0-9"),
    ],
)
def test_invalid_isbns_are_refused_with_a_clear_message(given, message):
    with pytest.raises(ValidationError) as raised:
        normalize_isbn(given)
    assert message in raised.value.messages[0]


def test_checksum_message_names_the_expected_digit():
    with pytest.raises(ValidationError) as raised:
        normalize_isbn("9780306406158")
    assert "should be 7" in raised.value.messages[0]


def test_model_validator_accepts_only_normalized_isbn13():
    validate_isbn13("9780306406157")
    with pytest.raises(ValidationError):
        validate_isbn13("0306406152")


def test_form_field_converts_isbn10_for_the_admin():
    assert ISBNFormField().clean("0-306-40615-2") == "9780306406157"
    with pytest.raises(ValidationError):
        ISBNFormField().clean("0-306-40615-3")
