#!/bin/sh
# Patroni's post_bootstrap on the first primary: the medsettle role and database (tables are made by medsettle on
# its first `serve --create` or `seed`). Set the password here or afterwards with ALTER ROLE.
set -eu
psql -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
CREATE ROLE medsettle LOGIN PASSWORD 'CHANGE-ME-medsettle';
CREATE DATABASE medsettle OWNER medsettle;
SQL
