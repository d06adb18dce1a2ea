#include "db/sqlite/sqlite_connection.h"

#include <gtest/gtest.h>

namespace garret::db::sqlite {
namespace {

class SqliteConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Connection::open(":memory:");
    ASSERT_TRUE(opened.ok());
    conn_ = std::move(opened).value();
    ASSERT_TRUE(conn_->exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ok());
  }
  std::int64_t count() {
    auto stmt = conn_->prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(stmt.ok());
    EXPECT_TRUE(*stmt->step());
    return stmt->int64(0);
  }
  Status insert(std::string_view k, std::int64_t v) {
    GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare("INSERT INTO t (k, v) VALUES (?, ?)"));
    stmt.bind(1, k).bind(2, v);
    return stmt.run();
  }

  std::unique_ptr<Connection> conn_;
};

TEST_F(SqliteConnectionTest, TransactionRollsBackUnlessCommitted) {
  {
    Transaction txn(*conn_);
    ASSERT_TRUE(txn.begin().ok());
    ASSERT_TRUE(insert("a", 1).ok());
  }
  EXPECT_EQ(count(), 0);
  Transaction txn(*conn_);
  ASSERT_TRUE(txn.begin().ok());
  ASSERT_TRUE(insert("a", 1).ok());
  ASSERT_TRUE(txn.commit().ok());
  EXPECT_EQ(count(), 1);
}

TEST_F(SqliteConnectionTest, CachedStatementIsResetBetweenUses) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(insert(std::to_string(i), i).ok());
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(count(), 3);
}

TEST_F(SqliteConnectionTest, ErrorsAreTranslated) {
  ASSERT_TRUE(insert("a", 1).ok());
  auto duplicate = insert("a", 2);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(duplicate.error().message.find("UNIQUE"), std::string::npos);

  auto stmt = conn_->prepare("INSERT INTO t (k, v) VALUES (?, NULL)");
  ASSERT_TRUE(stmt.ok());
  stmt->bind(1, std::string_view("b"));
  EXPECT_EQ(stmt->run().error().code, ErrorCode::kConflict);

  auto bad = conn_->prepare("SELEKT nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
}

TEST_F(SqliteConnectionTest, BindErrorSurfacesOnStep) {
  auto stmt = conn_->prepare("SELECT ?");
  ASSERT_TRUE(stmt.ok());
  stmt->bind(5, std::int64_t{1});
  EXPECT_FALSE(stmt->step().ok());
}

TEST_F(SqliteConnectionTest, NullableBinding) {
  auto stmt = conn_->prepare("SELECT ?, ?");
  ASSERT_TRUE(stmt.ok());
  stmt->bind(1, std::optional<std::int64_t>()).bind(2, std::optional<std::int64_t>(7));
  ASSERT_TRUE(*stmt->step());
  EXPECT_TRUE(stmt->isNull(0));
  EXPECT_FALSE(stmt->isNull(1));
  EXPECT_EQ(stmt->int64(1), 7);
}

struct CodeCase {
  int rc;
  ErrorCode code;
};

TEST(SqliteErrors, TranslationTable) {
  const CodeCase cases[] = {
      {SQLITE_BUSY, ErrorCode::kUnavailable},
      {SQLITE_BUSY_SNAPSHOT, ErrorCode::kUnavailable},
      {SQLITE_BUSY_TIMEOUT, ErrorCode::kUnavailable},
      {SQLITE_LOCKED, ErrorCode::kUnavailable},
      {SQLITE_LOCKED_SHAREDCACHE, ErrorCode::kUnavailable},
      {SQLITE_CANTOPEN, ErrorCode::kUnavailable},
      {SQLITE_CONSTRAINT_UNIQUE, ErrorCode::kAlreadyExists},
      {SQLITE_CONSTRAINT_PRIMARYKEY, ErrorCode::kAlreadyExists},
      {SQLITE_CONSTRAINT_FOREIGNKEY, ErrorCode::kConflict},
      {SQLITE_CONSTRAINT_NOTNULL, ErrorCode::kConflict},
      {SQLITE_CONSTRAINT_CHECK, ErrorCode::kConflict},
      {SQLITE_CONSTRAINT, ErrorCode::kConflict},
      {SQLITE_ERROR, ErrorCode::kInternal},
      {SQLITE_IOERR, ErrorCode::kInternal},
      {SQLITE_CORRUPT, ErrorCode::kInternal},
      {SQLITE_FULL, ErrorCode::kInternal},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(translateResultCode(c.rc), c.code) << "rc " << c.rc;
  }
}

}  // namespace
}  // namespace garret::db::sqlite
