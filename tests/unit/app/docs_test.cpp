// Checks that docs/CONFIG.md lists exactly the keys and secrets of the configuration table, with
// their types, defaults, allowed values, sources and meanings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "support/source_file.hpp"

namespace railwatch::app {
namespace {

std::string ReadDoc(const std::string& name) {
    return test::ReadSourceFile("docs/" + name);
}

// The lines of the markdown table whose header line starts with `header`, without the header
// and the separator.
std::vector<std::string> TableLines(const std::string& text, const std::string& header) {
    std::vector<std::string> rows;
    std::istringstream lines(text);
    std::string line;
    bool in_table = false;
    while (std::getline(lines, line)) {
        if (!in_table) {
            in_table = line.rfind(header, 0) == 0;
            continue;
        }
        if (line.empty() || line[0] != '|') break;
        if (line.rfind("|---", 0) == 0) continue;
        rows.push_back(line);
    }
    return rows;
}

std::string Code(std::string_view text) {
    return "`" + std::string(text) + "`";
}

std::string KeyRow(const KeySpec& key) {
    std::vector<std::string> sources;
    if (!key.env.empty()) sources.push_back(Code(key.env));
    if (!key.flag.empty()) sources.push_back(Code(key.flag));
    std::string joined = sources.empty() ? "—" : sources[0];
    if (sources.size() > 1) joined += ", " + sources[1];
    return "| " + Code(key.name) + " | " + std::string(ToString(key.kind)) + " | " + Code(DisplayValue(key, Config{})) +
           " | " + key.allowed + " | " + joined + " | " + std::string(key.doc) + " |";
}

std::string SecretRow(const SecretSpec& secret) {
    std::string from;
    if (secret.env_key.empty()) {
        from = std::string(secret.variables);
    } else {
        from = "the variable " + Code(secret.env_key) + " names (default " +
               DisplayValue(*FindKey(secret.env_key), Config{}) + ")";
    }
    return "| " + Code(secret.name) + " | " + from + " | " + std::string(secret.doc) + " |";
}

template <typename Spec, typename Row>
void ExpectTable(const std::string& header, std::span<const Spec> specs, Row row) {
    const auto lines = TableLines(ReadDoc("CONFIG.md"), header);
    std::string expected;
    for (const auto& spec : specs)
        expected += row(spec) + "\n";
    std::string actual;
    for (const auto& line : lines)
        actual += line + "\n";
    EXPECT_EQ(actual, expected) << "docs/CONFIG.md's table under \"" << header
                                << "\" must list the code's table; the rows it should have:\n"
                                << expected;
}

TEST(ConfigDocs, TheKeyTableListsEveryKeyAsTheCodeDefinesIt) {
    ExpectTable("| key | type | default | allowed | env / flag | meaning |", ConfigKeys(), KeyRow);
}

TEST(ConfigDocs, TheSecretTableListsEverySecret) {
    ExpectTable("| secret | read from | meaning |", ConfigSecrets(), SecretRow);
}

TEST(ConfigDocs, TheExampleFileIsValidAndUsesEveryKey) {
    const std::string doc = ReadDoc("CONFIG.md");
    const std::string begin = "```toml\n";
    const auto start = doc.find(begin);
    ASSERT_NE(start, std::string::npos) << "docs/CONFIG.md has no ```toml example";
    const auto end = doc.find("```", start + begin.size());
    const std::string example = doc.substr(start + begin.size(), end - start - begin.size());
    const auto loaded = LoadConfigText(example, "docs/CONFIG.md example");
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    for (const auto& key : ConfigKeys()) {
        EXPECT_EQ(loaded->SourceOf(key.name).kind, ValueSource::Kind::kFile) << key.name << " is not in the example";
    }
}

TEST(ConfigDocs, TheReadmeLinksTheConfigPage) {
    EXPECT_THAT(test::ReadSourceFile("README.md"), ::testing::HasSubstr("(docs/CONFIG.md)"));
}

}  // namespace
}  // namespace railwatch::app
