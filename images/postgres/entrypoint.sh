#!/bin/bash
# finsig/postgres entrypoint. On first start (empty PGDATA) it runs initdb with POSTGRES_USER
# (default postgres) as superuser, POSTGRES_PASSWORD (required) as its password, scram-sha-256
# for every TCP connection, and creates POSTGRES_DB (default: the user's name). Then it runs
# postgres in the foreground, listening on all addresses. Other commands are run as given.
set -euo pipefail

if [[ "${1:-postgres}" != "postgres" && "${1:-}" != -* ]]; then
  exec "$@"
fi
[[ "${1:-}" == "postgres" ]] && shift

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    echo "finsig-postgres: POSTGRES_PASSWORD must be set to initialise $PGDATA" >&2
    exit 1
  fi
  echo "finsig-postgres: initialising $PGDATA (superuser $user, database $db)"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  # local (socket) connections as the OS user postgres map onto the superuser
  sed -i "s/^local\(\s\+\)all\(\s\+\)all\(\s\+\)peer$/local all all peer map=finsig/" "$PGDATA/pg_hba.conf"
  echo "finsig postgres $user" >> "$PGDATA/pg_ident.conf"

  if [[ "$db" != "postgres" ]]; then
    # A socket-only server while the database is created: nobody can connect over TCP yet.
    pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
    psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
      --set=db="$db" <<'SQL'
CREATE DATABASE :"db";
SQL
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  fi
  echo "finsig-postgres: initialised"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
