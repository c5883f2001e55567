#!/usr/bin/env bash
# Make sure the PostgreSQL server named by DATABASE_URL answers, and that its database exists.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework scripts/ensure_postgres.sh
#
# For a server on this machine: installs Debian's postgresql when there is none, starts the cluster when it
# is stopped (no systemd needed). A server elsewhere is only waited for. Never falls back to SQLite.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

url="${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database}"
case "$url" in postgres://* | postgresql://*) ;; *) die "DATABASE_URL is not a PostgreSQL URL: $url" ;; esac

# host, port and database name, parsed the way the settings will parse them
read -r host port dbname < <(python3 - "$url" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "localhost", u.port or 5432, u.path.lstrip("/") or "postgres")
PY
)
admin_url="$(python3 -c 'import sys; from urllib.parse import urlsplit; print(urlsplit(sys.argv[1])._replace(path="/postgres").geturl())' "$url")"

local_server=0
case "$host" in 127.0.0.1 | localhost | ::1 | /*) local_server=1 ;; esac

answers() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if [ "$local_server" -eq 1 ]; then
    installed_now=0
    if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters --no-header 2>/dev/null)" ]; then
        apt_ensure postgresql
        installed_now=1
    fi
    # the cluster that listens on the port DATABASE_URL names (Debian's first one is <version>/main on 5432)
    read -r version cluster < <(pg_lsclusters --no-header | awk -v port="$port" '$3 == port { print $1, $2; exit }') ||
        die "no PostgreSQL cluster on port $port here (pg_lsclusters lists them); fix DATABASE_URL"
    if [ "$installed_now" -eq 1 ]; then
        # A cluster this script has just created for development and CI: let local connections in without a
        # password, like the machines this project runs on (DATABASE_URL carries no password).
        hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
        sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)\s(peer|scram-sha-256|md5)$/\1\2 trust/' "$hba"
        sed -i -E 's/^(local\s+all\s+postgres\s+)peer$/\1trust/' "$hba"
        # where the package's own service start already ran (systemd machines), re-read the rules
        if answers; then as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload; fi
    fi
    if ! answers; then
        say "starting PostgreSQL $version/$cluster"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
    fi
else
    command -v pg_isready >/dev/null || apt_ensure postgresql-client
fi

for _ in $(seq 1 30); do answers && break; sleep 1; done
answers || die "PostgreSQL at $host:$port does not answer"

if ! psql -w "$admin_url" -qAtc 'select 1' >/dev/null; then
    die "cannot log in to PostgreSQL with $admin_url (check DATABASE_URL's user and password)"
fi
if [ "$(psql -w "$admin_url" -qAtc "select 1 from pg_database where datname = '$dbname'")" != "1" ]; then
    say "creating database $dbname"
    psql -w "$admin_url" -qc "create database \"$dbname\"" >/dev/null
fi
