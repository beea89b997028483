#include "cli/unexpected_error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace railwatch::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(UnexpectedErrorLine, SaysWhatHappenedOnOneLine) {
    const std::string line = UnexpectedErrorLine("cannot write to file:\nNo space left on device", {}, {});
    EXPECT_THAT(line, StartsWith("railwatch: internal error: cannot write to file: No space left on device; "));
    EXPECT_THAT(line, HasSubstr("please report it"));
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(UnexpectedErrorLine, CutsALongMessage) {
    const std::string line = UnexpectedErrorLine(std::string(5000, 'x'), {}, {});
    EXPECT_LT(line.size(), 600u);
}

TEST(UnexpectedErrorLine, NeverShowsATokenFromTheEnvironment) {
    const std::vector<std::string> env = {"RAILWAY_API_TOKEN=acct-0123456789", "RAILWAY_TOKEN=proj-abcdefghij",
                                          "RAILWATCH_WEBHOOK_SECRET=whsec_zzzzzzzz",
                                          "RAILWATCH_SMTP_PASSWORD=hunter2hunter2", "HOME=/root/homedir"};
    const std::string line = UnexpectedErrorLine(
        "request with acct-0123456789 and proj-abcdefghij and whsec_zzzzzzzz and hunter2hunter2 from /root/homedir", {},
        env);
    EXPECT_THAT(line, Not(HasSubstr("acct-0123456789")));
    EXPECT_THAT(line, Not(HasSubstr("proj-abcdefghij")));
    EXPECT_THAT(line, Not(HasSubstr("whsec_zzzzzzzz")));
    EXPECT_THAT(line, Not(HasSubstr("hunter2hunter2")));
    EXPECT_THAT(line, HasSubstr("[redacted]"));
    EXPECT_THAT(line, HasSubstr("/root/homedir"));  // not a secret
}

TEST(UnexpectedErrorLine, NeverShowsATokenGivenAsAFlag) {
    const std::vector<std::string> args = {
        "railwatch", "sim",           "--account-token", "sim-secret-one", "--project-token=sim-secret-two",
        "--listen",  "127.0.0.1:7070"};
    const std::string line = UnexpectedErrorLine("tokens sim-secret-one / sim-secret-two on 127.0.0.1:7070", args, {});
    EXPECT_THAT(line, Not(HasSubstr("sim-secret-one")));
    EXPECT_THAT(line, Not(HasSubstr("sim-secret-two")));
    EXPECT_THAT(line, HasSubstr("127.0.0.1:7070"));
}

TEST(UnexpectedErrorLine, NeverShowsAPasswordInADatabaseUrl) {
    const std::string line =
        UnexpectedErrorLine("could not connect to postgresql://railwatch:s3cr3t-pw@db.internal:5432/railwatch", {}, {});
    EXPECT_THAT(line, Not(HasSubstr("s3cr3t-pw")));
    EXPECT_THAT(line, HasSubstr("postgresql://railwatch:[redacted]@db.internal:5432/railwatch"));
}

}  // namespace
}  // namespace railwatch::cli
