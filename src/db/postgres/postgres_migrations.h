#pragma once

// The PostgreSQL schema as numbered migrations, the same numbers and the
// same tables, columns and indexes as the SQLite ones (sqlite_migrations),
// recorded in schema_migrations(version). Each pending migration runs in its
// own transaction holding a transaction-scoped advisory lock, so concurrent
// migrators (several replicas starting at once) apply it exactly once.

#include <span>

#include "core/result.h"
#include "db/postgres/postgres_connection.h"

namespace garret::db::postgres {

struct Migration {
  int version;
  const char* sql;
};

// All migrations, in ascending version order.
std::span<const Migration> migrations();

// Applies the pending migrations. kInternal if the database has a version
// this build does not know (written by a newer garret).
Status runMigrations(Connection& conn);
// Applies the pending migrations up to `target` only.
Status runMigrations(Connection& conn, int target);

// The highest applied version, 0 for an empty database. Changes nothing.
Result<int> schemaVersion(Connection& conn);

}  // namespace garret::db::postgres
