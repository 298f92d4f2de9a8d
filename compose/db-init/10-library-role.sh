#!/usr/bin/env bash
# Run by the postgres image's entrypoint once, on the first start with an empty data folder,
# as the superuser over the local socket: the app's own role, "library", which owns the
# database and its schema (so migrations work) but is no superuser and can create no database
# or role. Its password comes from LIBRARY_DB_PASSWORD, read by psql itself (\getenv), so it
# never appears on a command line; or from the file LIBRARY_DB_PASSWORD_FILE names (a Swarm secret).
set -Eeuo pipefail

if [ -n "${LIBRARY_DB_PASSWORD_FILE:-}" ]; then
  LIBRARY_DB_PASSWORD=$(<"$LIBRARY_DB_PASSWORD_FILE")
  export LIBRARY_DB_PASSWORD
fi

if [ -z "${LIBRARY_DB_PASSWORD:-}" ]; then
  echo "db-init: LIBRARY_DB_PASSWORD is required to create the library role" >&2
  exit 1
fi

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv library_password LIBRARY_DB_PASSWORD
CREATE ROLE library LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'library_password';
ALTER DATABASE library OWNER TO library;
ALTER SCHEMA public OWNER TO library;
-- Only the owner (and the superuser) may connect to the app's database.
REVOKE CONNECT, TEMPORARY ON DATABASE library FROM PUBLIC;
SQL
echo "db-init: role library created (owner of database library, not a superuser)" >&2
