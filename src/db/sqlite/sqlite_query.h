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
#include "db/metadata_db.h"
#include "db/sqlite/sqlite_connection.h"

namespace garret::db::sqlite {

inline std::int64_t currentTime() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Joins SQL text from pieces (column lists are shared constants).
inline std::string sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

inline Result<Hash> readHash(const Statement& s, int column) {
  auto hash = Hash::parseBare(s.text(column));
  if (!hash.ok()) {
    return makeError(ErrorCode::kInternal, "stored hash is corrupt: " + hash.error().message);
  }
  return hash;
}

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


// NAR rows, shared by the object joins and the chunk store.
inline constexpr const char* kNarColumnsN =
    "n.id, n.nar_hash, n.nar_size, n.compression, n.file_hash, n.file_size, n.created_at";

inline Result<NarRecord> readNar(const Statement& s, int first) {
  NarRecord n;
  n.id = s.int64(first);
  GARRET_ASSIGN_OR_RETURN(n.nar_hash, readHash(s, first + 1));
  n.nar_size = static_cast<std::uint64_t>(s.int64(first + 2));
  n.compression = s.text(first + 3);
  GARRET_ASSIGN_OR_RETURN(n.file_hash, readHash(s, first + 4));
  n.file_size = static_cast<std::uint64_t>(s.int64(first + 5));
  n.created_at = s.int64(first + 6);
  return n;
}

// Statements shared by several SqliteMetadataDb methods; the caller holds
// the connection (and any transaction).
Result<ObjectRecord> upsertObjectOn(Connection& conn, const ObjectRecord& object);
Status putStagedOn(Connection& conn, const StagedUpload& staged);

}  // namespace garret::db::sqlite
