"""What every app's web API shares: pagination, query parameters, serializer fields, the
JSON parser, the browsable API's renderer and the OpenAPI schema (settings.REST_FRAMEWORK
names them). Errors and throttling are site-wide: core.errors, core.throttling.

Permissions are Django's model permissions (settings.REST_FRAMEWORK): anyone reads, and a
write needs the model's add/change/delete permission, granted per user or group in the admin.
"""
