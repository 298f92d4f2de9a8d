"""The API's pages (DRF's DEFAULT_PAGINATION_CLASS)."""

from rest_framework import exceptions, pagination


class Pagination(pagination.PageNumberPagination):
    """Pages of 1 to 100 rows (a page_size outside that is a 400, not silently clamped or
    ignored, as the schema's limits say); a page past the last is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # the schema's page is an integer: no "last"
    # DRF's "Invalid page." does not say which parameter was wrong.
    invalid_page_message = "Invalid page: the page parameter must be from 1 to the last page."

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size
        # The length first: int() of a 5000-digit string raises ValueError, a 500.
        if not (value.isascii() and value.isdigit() and len(value) <= 3
                and 1 <= int(value) <= self.max_page_size):
            raise exceptions.ValidationError({self.page_size_query_param: [
                f"A whole number from 1 to {self.max_page_size}."]})
        return int(value)

    def get_schema_operation_parameters(self, view):
        page, page_size = super().get_schema_operation_parameters(view)
        page["schema"] = {"type": "integer", "minimum": 1}
        page_size["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return [page, page_size]
