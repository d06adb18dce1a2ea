#pragma once

// The SQLite schema as numbered migrations, recorded in
// schema_migrations(version). Each pending migration runs in its own
// write transaction, so concurrent migrators apply it once.

#include <span>

#include "core/result.h"
#include "db/sqlite/sqlite_connection.h"

namespace garret::db::sqlite {

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

// The highest applied version, 0 for an empty database.
Result<int> schemaVersion(Connection& conn);

}  // namespace garret::db::sqlite
