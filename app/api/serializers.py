"""Serializer fields and checks shared by the API's apps."""

from rest_framework import serializers


class CountField(serializers.IntegerField):
    """A count the list's query annotates (no query per row). A row the request has just
    created was not loaded by that query, and has nothing to count yet: 0."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, min_value=0, **kwargs)

    def get_attribute(self, instance):
        return getattr(instance, self.source, 0)


def json_type_error(field, value) -> str | None:
    """Why `value` is not of the JSON type the schema gives `field` (in DRF's words), or None.

    DRF converts as it reads: 12 becomes "12" for a text field, "12" becomes 12 for a number,
    "yes" becomes true. The schema promises types, so a JSON body must keep to them."""
    if value is None:
        return None  # the field's own allow_null check answers
    if isinstance(field, serializers.ManyRelatedField):
        if not isinstance(value, list):
            return "Expected a list of items."
        if any(not is_integer(item) for item in value):
            return "Incorrect type. Expected pk value."
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be a valid boolean."
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return None if is_integer(value) else "A valid integer is required."
    if isinstance(field, serializers.CharField | serializers.ChoiceField | serializers.DateField
                  | serializers.DateTimeField):
        return None if isinstance(value, str) else "Not a valid string."
    return None


def is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Refuses a JSON body whose values are not of the schema's types (400 naming each field).
# Form bodies (the browsable API's HTML forms) send only text and keep DRF's conversion.
# (A comment, not a docstring: the schema would show a docstring as each body's description.)
class JSONTypesMixin:

    def to_internal_value(self, data):
        if type(data) is dict:  # parsed JSON; form parsers give a QueryDict
            errors = {}
            for name, field in self.fields.items():
                if field.read_only or field.field_name not in data:
                    continue
                problem = json_type_error(field, data[field.field_name])
                if problem:
                    errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
