"""The API's query parameters (filters, search, ordering) refuse a value they cannot read
(400 naming the parameter) instead of ignoring it, so the OpenAPI schema's types are the whole
truth: a value the schema forbids is never quietly answered with an unfiltered list. An empty
value (`?available=`) means the parameter is not applied, as the schema's allowEmptyValue says
(api.schema)."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters

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


class SearchFilter(filters.SearchFilter):
    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:  # e.g. a NUL byte: name the parameter
            raise exceptions.ValidationError({self.search_param: exc.detail}) from None


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, refusing a field it does not offer (DRF drops it silently), and
    listing the fields it offers in the schema."""

    def get_ordering(self, request, queryset, view):
        value = request.query_params.get(self.ordering_param, "")
        if value == "":
            return self.get_default_ordering(view)
        offered = self.offered_terms(queryset, view, request)
        terms = value.split(",")
        unknown = [term for term in terms if term not in offered]
        if unknown:
            raise exceptions.ValidationError({self.ordering_param: [
                f"Cannot order by {unknown[0]!r}: use {', '.join(offered)}."]})
        return terms

    def offered_terms(self, queryset, view, request=None) -> list[str]:
        valid = self.get_valid_fields(queryset, view, {"request": request})
        fields = [name for name, _label in valid]
        return [term for name in fields for term in (name, f"-{name}")]

    def get_schema_operation_parameters(self, view):
        (parameter,) = super().get_schema_operation_parameters(view)
        terms = self.offered_terms(view.get_queryset().none(), view)
        parameter["schema"] = {"type": "array", "minItems": 1,
                               "items": {"type": "string", "enum": terms}}
        parameter.update(style="form", explode=False)
        parameter["description"] = "Comma-separated fields; a leading - reverses one."
        return [parameter]
