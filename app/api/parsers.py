"""The API's JSON parser: DRF's, minus a 500.

json raises RecursionError (not ValueError) on deeply nested input such as "[[[[..."
(2 kB of it is enough), which DRF's parser let through as a 500. (Body size is already
capped: DRF reads JSON through request.body, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE.)
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
