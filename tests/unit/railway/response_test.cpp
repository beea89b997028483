#include "railway/response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace railwatch::railway {
namespace {

net::HttpResponse Answer(std::string body) {
    net::HttpResponse response;
    response.status = 200;
    response.body = std::move(body);
    return response;
}

std::string ValueOf(const Envelope& envelope, std::string_view field) {
    const auto value = envelope.Field(field);
    if (!value) return "<none>";
    std::string_view text;
    return value->get_string().get(text) == simdjson::SUCCESS ? std::string(text) : "<not a string>";
}

TEST(DocumentPool, AReturnedDocumentIsHandedOutAgain) {
    DocumentPool pool(4, 1024);
    const simdjson::dom::document* first = nullptr;
    {
        auto document = pool.Take();
        first = document.get();
        EXPECT_EQ(pool.idle(), 0u);
    }
    EXPECT_EQ(pool.idle(), 1u);
    EXPECT_EQ(pool.Take().get(), first);
}

TEST(DocumentPool, ADocumentInUseIsNeverHandedOutTwice) {
    DocumentPool pool(4, 1024);
    { auto warm = pool.Take(); }
    auto held = pool.Take();
    auto copy = held;  // the document comes back only when the last copy goes
    held.reset();
    EXPECT_EQ(pool.idle(), 0u);
    auto other = pool.Take();
    EXPECT_NE(other.get(), copy.get());
}

TEST(DocumentPool, KeepsAtMostItsIdleCountAndNoDocumentLargerThanItsCapacity) {
    DocumentPool pool(2, 1024);
    { auto a = pool.Take(), b = pool.Take(), c = pool.Take(); }
    EXPECT_EQ(pool.idle(), 2u);

    DocumentPool small(4, 1024);
    {
        auto document = small.Take();
        simdjson::dom::parser parser;
        const std::string big = "[\"" + std::string(4096, 'x') + "\"]";
        ASSERT_EQ(parser.parse_into_document(*document, big).error(), simdjson::SUCCESS);
        ASSERT_GT(document->capacity(), 1024u);
    }
    EXPECT_EQ(small.idle(), 0u);  // its memory went with it
}

// A rare large answer is read whole, and its parser buffers are not kept for the thread's next
// answer (after a 66 MB environment page a job worker's parser held 265 MB); a usual one's are.
TEST(InterpretResponse, TheThreadKeepsNoParserBuffersOfALargeAnswer) {
    const ErrorContext context{"environment read", "http://127.0.0.1/graphql/v2", TokenKind::kAccount, ""};
    auto small = InterpretResponse(Answer(R"({"data":{"d0":"small"}})"), context);
    ASSERT_TRUE(small.has_value());
    const std::size_t usual = ParserCapacityForTest();
    EXPECT_GT(usual, 0u);
    EXPECT_LE(usual, kMaxParserCapacity);
    const std::string text(3 * kMaxParserCapacity, 'x');
    auto large = InterpretResponse(Answer(R"({"data":{"d0":")" + text + R"("}})"), context);
    ASSERT_TRUE(large.has_value());
    EXPECT_EQ(ValueOf(*large, "d0"), text);  // the document holds the answer
    EXPECT_LE(ParserCapacityForTest(), kMaxParserCapacity);
    auto again = InterpretResponse(Answer(R"({"data":{"d0":"again"}})"), context);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(ValueOf(*again, "d0"), "again");
    EXPECT_EQ(ValueOf(*large, "d0"), text);
}

// Envelopes share pooled documents: an answer read later never overwrites one still held.
TEST(InterpretResponse, AnEnvelopeKeepsItsAnswerWhileLaterAnswersAreRead) {
    const ErrorContext context{"status check", "http://127.0.0.1/graphql/v2", TokenKind::kAccount, ""};
    auto first = InterpretResponse(Answer(R"({"data":{"d0":"first answer"}})"), context);
    ASSERT_TRUE(first.has_value());
    for (int i = 0; i < 20; ++i) {
        auto later =
            InterpretResponse(Answer(R"({"data":{"d0":"later answer )" + std::to_string(i) + R"("}})"), context);
        ASSERT_TRUE(later.has_value());
        EXPECT_EQ(ValueOf(*later, "d0"), "later answer " + std::to_string(i));
    }
    EXPECT_EQ(ValueOf(*first, "d0"), "first answer");
    const Envelope copy = *first;
    first = tl::unexpected(MalformedAnswer("gone", 200, context));  // the copy still holds the document
    auto after = InterpretResponse(Answer(R"({"data":{"d0":"after"}})"), context);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(ValueOf(copy, "d0"), "first answer");
}

}  // namespace
}  // namespace railwatch::railway
