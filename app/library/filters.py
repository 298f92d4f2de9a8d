"""Query filters that refuse a value they cannot read (400 naming the parameter) instead of
ignoring it, so the OpenAPI schema's types are the whole truth: a value the schema forbids is
never quietly answered with an unfiltered list. An empty value (`?available=`) means the
filter is not applied, as the schema's allowEmptyValue says (library.schema)."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

# Ids are PostgreSQL bigints (DEFAULT_AUTO_FIELD): larger numbers cannot name a row.
MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """Rows whose foreign key is this id. An id with no row gives an empty page (not a 400):
    which ids exist is the list's to tell, and a member may not learn other users' ids."""

    field_class = IdField


class StrictBooleanField(forms.Field):
    """`true` or `false`, as the schema's boolean is written in a query; Django's
    NullBooleanField read "abc" as "no filter"."""

    default_error_messages = {"invalid": "Use true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value == "true"


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
