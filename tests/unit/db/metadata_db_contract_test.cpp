// Runs the MetadataDb contract over every backend that needs no server.
// PostgreSQL runs the same suite from postgres_metadata_db_contract_test.cpp.

#include "unit/db/metadata_db_contract.h"

#include "db/sqlite/sqlite_metadata_db.h"
#include "support/temp_dir.h"

namespace garret::db {
namespace {

struct SqliteFactory {
  static constexpr const char* kName = "Sqlite";

  std::unique_ptr<MetadataDb> make() {
    auto db = connect();
    if (db == nullptr || !db->migrate().ok()) return nullptr;
    return db;
  }
  std::unique_ptr<MetadataDb> connect() {
    auto db = SqliteMetadataDb::open((dir.path() / "garret.db").string());
    return db.ok() ? std::move(db).value() : nullptr;
  }

  garret::testing::TempDir dir;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, MetadataDbContractTest, ::testing::Types<SqliteFactory>,
                               FactoryNames);

}  // namespace
}  // namespace garret::db
