#pragma once

// Internal to SqliteMetadataDb: small helpers shared by its source files
// for building SQL text and reading rows.

#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/hash.h"
#include "db/db_rows.h"
#include "db/metadata_db.h"
#include "db/sqlite/sqlite_connection.h"

namespace garret::db::sqlite {

inline std::int64_t currentTime() { return static_cast<std::int64_t>(std::time(nullptr)); }

template <class R>
struct ResultValue;
template <class T>
struct ResultValue<Result<T>> {
  using type = T;
};
template <class Read>
using ReadType = typename ResultValue<std::invoke_result_t<Read, const Statement&>>::type;

// Reads at most one row and runs the statement to completion, so that an
// implicit transaction (INSERT … RETURNING) commits and reports failure.
template <class Read>
Result<std::optional<ReadType<Read>>> queryOne(Statement& stmt, Read read) {
  using T = ReadType<Read>;
  GARRET_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<T>();
  GARRET_ASSIGN_OR_RETURN(T value, read(stmt));
  GARRET_TRY(stmt.run());
  return std::optional<T>(std::move(value));
}

// Like queryOne, for statements that always return a row.
template <class Read>
Result<ReadType<Read>> queryRow(Statement& stmt, Read read) {
  GARRET_ASSIGN_OR_RETURN(auto row, queryOne(stmt, read));
  if (!row) return makeError(ErrorCode::kInternal, "statement returned no row");
  return std::move(*row);
}

// Reads every row.
template <class Read>
Result<std::vector<ReadType<Read>>> queryAll(Statement& stmt, Read read) {
  std::vector<ReadType<Read>> rows;
  while (true) {
    GARRET_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return rows;
    GARRET_ASSIGN_OR_RETURN(auto value, read(stmt));
    rows.push_back(std::move(value));
  }
}


// Rows as records (db/db_rows.h), for this backend's statements.
using rows::kNarColumnsN;
inline Result<Hash> readHash(const Statement& s, int column) { return rows::hash(s, column); }
inline Result<NarRecord> readNar(const Statement& s, int first) { return rows::nar(s, first); }

// Statements shared by several SqliteMetadataDb methods; the caller holds
// the connection (and any transaction).
Result<ObjectRecord> upsertObjectOn(Connection& conn, const ObjectRecord& object);
Status putStagedOn(Connection& conn, const StagedUpload& staged);

}  // namespace garret::db::sqlite
