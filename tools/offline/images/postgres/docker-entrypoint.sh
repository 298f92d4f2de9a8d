#!/usr/bin/env bash
# Entrypoint compatible with the official postgres image for the variables the stack uses:
# on first start (empty $PGDATA) initdb with POSTGRES_USER/POSTGRES_PASSWORD, create
# POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh|*.sql; then run postgres as "postgres".
set -Eeuo pipefail

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"

log() { echo "docker-entrypoint: $*" >&2; }

# Anything other than "postgres ..." (e.g. "bash", "pg_isready") runs as asked.
if [ $# -eq 0 ] || [ "${1:0:1}" = "-" ]; then
  set -- postgres "$@"
fi
if [ "$1" != "postgres" ]; then
  exec "$@"
fi

# As root, as the official entrypoint does: make the data and socket folders (the latter may
# be a fresh tmpfs) and hand what is not yet the postgres user's to it, then re-run as postgres.
if [ "$(id -u)" = "0" ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA"
  chmod 03775 /var/run/postgresql
  find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

# POSTGRES_PASSWORD_FILE: the password in a file (a Swarm secret), as the official image reads it.
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    log "POSTGRES_PASSWORD is required to initialise a new database (refusing an open server)"
    exit 1
  fi
  log "initialising a new cluster in $PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  # Other containers reach the server over the network with a password.
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # A socket-only server for setup: nothing can connect over TCP before it is ready.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname postgres -q)
  if [ "$POSTGRES_DB" != "postgres" ]; then
    exists=$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_DB'")
    [ "$exists" = "1" ] || "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        # As the official image does: an executable script is run, any other is sourced.
        log "running $f"
        if [ -x "$f" ]; then
          POSTGRES_USER=$POSTGRES_USER POSTGRES_DB=$POSTGRES_DB "$f"
        else
          # shellcheck source=/dev/null
          . "$f"
        fi
        ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *)     ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "initialisation done"
fi

exec "$@"
