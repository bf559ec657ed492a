#!/bin/sh
# Run once by the postgres image when it creates the primary's data directory
# (docker-compose.scale.yml): lets the replica stream with the postgres user's password.
set -e
echo "host replication postgres all scram-sha-256" >> "$PGDATA/pg_hba.conf"
