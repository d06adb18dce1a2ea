// Runs the MetadataDb contract over PostgresMetadataDb, each test on a fresh
// database of the test process's own PostgreSQL server
// (support/postgres_server.h). Without PostgreSQL the tests fail and say what
// to install.

#include "db/postgres/postgres_metadata_db.h"
#include "support/postgres_server.h"
#include "unit/db/metadata_db_contract.h"

namespace garret::db {
namespace {

using garret::testing::PostgresServer;

struct PostgresFactory {
  static constexpr const char* kName = "Postgres";

  PostgresFactory() = default;
  PostgresFactory(const PostgresFactory&) = delete;
  PostgresFactory& operator=(const PostgresFactory&) = delete;
  ~PostgresFactory() {
    if (server != nullptr && !database.empty()) {
      auto dropped = server->dropDatabase(database);
      EXPECT_TRUE(dropped.ok()) << dropped.error().message;
    }
  }

  std::unique_ptr<MetadataDb> make() {
    auto shared = PostgresServer::shared();
    if (!shared.ok()) {
      garret::testing::postgresUnavailable(shared.error().message);
      return nullptr;
    }
    server = *shared;
    auto created = server->createDatabase();
    if (!created.ok()) {
      ADD_FAILURE() << created.error().message;
      return nullptr;
    }
    database = *created;
    auto db = connect();
    if (db == nullptr) return nullptr;
    auto migrated = db->migrate();
    if (!migrated.ok()) {
      ADD_FAILURE() << migrated.error().message;
      return nullptr;
    }
    return db;
  }

  std::unique_ptr<MetadataDb> connect() {
    auto db = PostgresMetadataDb::open(server->url(database));
    if (!db.ok()) {
      ADD_FAILURE() << db.error().message;
      return nullptr;
    }
    return std::move(db).value();
  }

  PostgresServer* server = nullptr;
  std::string database;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, MetadataDbContractTest, ::testing::Types<PostgresFactory>,
                               FactoryNames);

}  // namespace
}  // namespace garret::db
