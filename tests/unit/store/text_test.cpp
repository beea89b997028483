#include "store/text.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/model.hpp"

namespace railwatch::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ValidateText, AcceptsAsciiAndMultibyteUtf8) {
    EXPECT_TRUE(ValidateText("f", "plain", 100));
    EXPECT_TRUE(ValidateText("f", "é 部 🚀 \xf4\x8f\xbf\xbf", 100));  // up to U+10FFFF
    EXPECT_TRUE(ValidateText("f", "", 100));
}

TEST(ValidateText, RejectsMalformedSequencesWithOffset) {
    struct Case {
        std::string text;
        std::string offset;
    };
    for (const auto& c : std::vector<Case>{{"ab\xff", "offset 2"},
                                           {"\xc0\xaf", "offset 0"},          // overlong '/'
                                           {"x\xed\xa0\x80", "offset 1"},     // UTF-16 surrogate
                                           {"\xf4\x90\x80\x80", "offset 0"},  // above U+10FFFF
                                           {"\xe2\x82", "offset 0"},          // truncated
                                           {"\x80", "offset 0"}}) {           // lone continuation
        const auto r = ValidateText("message", c.text, 100);
        ASSERT_FALSE(r) << c.offset;
        EXPECT_EQ(r.error().code, util::ErrorCode::kInvalidArgument);
        EXPECT_THAT(r.error().message, HasSubstr("message is not valid UTF-8"));
        EXPECT_THAT(r.error().message, HasSubstr(c.offset));
    }
}

TEST(ValidateText, RejectsNulAndOverlongText) {
    auto r = ValidateText("title", std::string("a\0b", 3), 100);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("title contains a NUL byte at offset 1"));
    r = ValidateText("title", std::string(11, 'x'), 10);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("title is 11 bytes long"));
    EXPECT_THAT(r.error().message, HasSubstr("at most 10"));
}

TEST(MessageHash, IsStableAndDistinguishesMessages) {
    EXPECT_EQ(MessageHash(""), static_cast<std::int64_t>(14695981039346656037ULL));
    EXPECT_EQ(MessageHash("hello"), MessageHash(std::string("hello")));
    EXPECT_NE(MessageHash("hello"), MessageHash("hellp"));
}

TEST(InstanceCursor, RoundTripsAnyId) {
    const core::Timestamp t{core::Duration(1'767'225'600'123'456'789LL)};
    for (const std::string id : {"inst_abc", "with.dots.and-dashes", "ü'; DROP --", "x"}) {
        const auto decoded = DecodeInstanceCursor(EncodeInstanceCursor(t, id));
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(decoded->created_at, t);
        EXPECT_EQ(decoded->id, id);
    }
}

TEST(InstanceCursor, RejectsAnythingElse) {
    for (const std::string bad : {"", "c1.", "c1.zz.00", "c1.10.", "c1.10.0", "c1.10.0g", "v2.10.6869", "c1.10"}) {
        const auto r = DecodeInstanceCursor(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, util::ErrorCode::kInvalidArgument);
        EXPECT_THAT(r.error().message, HasSubstr("start again without a cursor"));
    }
}

TEST(StoreUrl, ParsesSqlitePaths) {
    auto u = ParseStoreUrl("sqlite:railwatch.db");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->kind, StoreUrl::Kind::kSqlite);
    EXPECT_EQ(u->sqlite_path, "railwatch.db");
    u = ParseStoreUrl("sqlite:///var/lib/railwatch/db.sqlite");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->sqlite_path, "/var/lib/railwatch/db.sqlite");
    EXPECT_FALSE(ParseStoreUrl("sqlite:"));
}

TEST(StoreUrl, ParsesPostgresAndHidesThePassword) {
    for (const std::string scheme : {"postgresql", "postgres"}) {
        const auto u = ParseStoreUrl(scheme + "://rw:s3cret@db.internal:6543/railwatch?sslmode=require");
        ASSERT_TRUE(u);
        EXPECT_EQ(u->kind, StoreUrl::Kind::kPostgres);
        EXPECT_EQ(u->conninfo, scheme + "://rw:s3cret@db.internal:6543/railwatch?sslmode=require");
        EXPECT_THAT(u->redacted, Not(HasSubstr("s3cret")));
        EXPECT_THAT(u->redacted, HasSubstr("rw:***@db.internal:6543"));
    }
    const auto q = ParseStoreUrl("postgresql://db/railwatch?user=rw&password=topsecret&sslmode=disable");
    ASSERT_TRUE(q);
    EXPECT_THAT(q->redacted, Not(HasSubstr("topsecret")));
    EXPECT_THAT(q->redacted, HasSubstr("sslmode=disable"));
}

TEST(StoreUrl, RejectsOtherSchemesWithoutEchoingSecrets) {
    auto r = ParseStoreUrl("mysql://root:pw@localhost/db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("sqlite:PATH"));
    EXPECT_THAT(r.error().message, Not(HasSubstr("pw@")));
    r = ParseStoreUrl("railwatch.db");
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("\"railwatch.db\""));
}

TEST(ModelNames, RoundTrip) {
    for (const auto s : {OutboxStatus::kPending, OutboxStatus::kSent, OutboxStatus::kFailed, OutboxStatus::kDead})
        EXPECT_EQ(ParseOutboxStatus(ToString(s)), s);
    EXPECT_EQ(ParseLogKind("build"), LogKind::kBuild);
    EXPECT_EQ(ParseLogKind("deploy"), LogKind::kDeploy);
    EXPECT_FALSE(ParseLogKind("Build"));
    EXPECT_FALSE(ParseOutboxStatus("PENDING"));
}

}  // namespace
}  // namespace railwatch::store
