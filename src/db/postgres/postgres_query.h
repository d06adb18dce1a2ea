#pragma once

// Internal to PostgresMetadataDb: row readers and statements shared by its
// source files.

#include <ctime>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/hash.h"
#include "db/db_rows.h"
#include "db/metadata_db.h"
#include "db/postgres/postgres_connection.h"

namespace garret::db::postgres {

inline std::int64_t currentTime() { return static_cast<std::int64_t>(std::time(nullptr)); }
inline std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

inline Result<Hash> readHash(const Row& r, int column) { return rows::hash(r, column); }

// The T of a reader returning Result<T>.
template <class R>
struct ResultValue;
template <class T>
struct ResultValue<Result<T>> {
  using type = T;
};
template <class Read>
using RowType = typename ResultValue<std::invoke_result_t<Read, const Row&>>::type;

// The first row read with `read`, or nullopt if there is none.
template <class Read>
Result<std::optional<RowType<Read>>> readOne(const Rows& rows, Read read) {
  using T = RowType<Read>;
  if (rows.size() == 0) return std::optional<T>();
  GARRET_ASSIGN_OR_RETURN(T value, read(rows.row(0)));
  return std::optional<T>(std::move(value));
}

// Like readOne, for statements that always return a row.
template <class Read>
Result<RowType<Read>> readFirst(const Rows& rows, Read read) {
  if (rows.size() == 0) return makeError(ErrorCode::kInternal, "statement returned no row");
  return read(rows.row(0));
}

template <class Read>
Result<std::vector<RowType<Read>>> readAll(const Rows& rows, Read read) {
  std::vector<RowType<Read>> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    GARRET_ASSIGN_OR_RETURN(auto value, read(rows.row(i)));
    out.push_back(std::move(value));
  }
  return out;
}

// Rows as records (db/db_rows.h), for this backend's rows.
using rows::kNarColumnsN;
inline Result<NarRecord> readNar(const Row& r, int first) { return rows::nar(r, first); }

// Statements shared by several PostgresMetadataDb methods; the caller holds
// the connection (and any transaction).
Result<ObjectRecord> upsertObjectOn(Connection& conn, const ObjectRecord& object);
Status putStagedOn(Connection& conn, const StagedUpload& staged);

}  // namespace garret::db::postgres
