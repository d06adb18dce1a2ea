#!/usr/bin/env bash
# test_replicas.sh with PostgreSQL and an S3-compatible server (s3rver)
# shared by the replicas instead of SQLite and a local directory.
GARRET_IT_BACKEND=postgres-s3 exec bash "$(dirname "$0")/test_replicas.sh" "$@"
