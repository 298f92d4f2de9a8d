"""The platform every app shares, as a Django app: authentication and sign-in, error answers,
throttling, health endpoints, the request log, sessions, and the operators' commands
(ensure_admin, readiness, rotate_token)."""
