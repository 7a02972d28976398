#!/bin/sh
# First start of the compose Postgres: the schema owner `voxledger` (not a superuser) owns the database; the
# gateway's login `voxledger_gateway` is in `voxledger_read`, to which the owner grants SELECT only
# (services/projector/.../adapters/grants.py). The owner may switch the WAL and checkpoint: the projector's
# erasure of deleted rows ends so (README: Erasure). pgvector, for the passages of asking, is created here:
# it is not a trusted extension. Passwords come from the generated secrets, never from here.
set -eu
owner_pw=$(cat /run/secrets/pg-voxledger)
reader_pw=$(cat /run/secrets/pg-voxledger_gateway)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$owner_pw" -v reader_pw="$reader_pw" <<'SQL'
CREATE ROLE voxledger_read NOLOGIN;
CREATE ROLE voxledger LOGIN PASSWORD :'owner_pw';
CREATE ROLE voxledger_gateway LOGIN PASSWORD :'reader_pw' IN ROLE voxledger_read;
CREATE DATABASE voxledger OWNER voxledger;
REVOKE ALL ON DATABASE voxledger FROM PUBLIC;
GRANT CONNECT ON DATABASE voxledger TO voxledger_gateway;
GRANT pg_checkpoint TO voxledger;
\c voxledger
GRANT EXECUTE ON FUNCTION pg_switch_wal() TO voxledger;
CREATE EXTENSION IF NOT EXISTS vector;
SQL
