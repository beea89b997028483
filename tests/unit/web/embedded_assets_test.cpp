#include "web/embedded_assets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstddef>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace railwatch::web {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::size_t kFirstPaintBudgetBytes = std::size_t{100} * 1024;

std::string Gunzip(std::string_view compressed) {
    z_stream stream{};
    // 16 + MAX_WBITS: expect a gzip header, not a raw zlib stream.
    EXPECT_EQ(inflateInit2(&stream, 16 + MAX_WBITS), Z_OK);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    std::string out;
    char buffer[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof(buffer);
        rc = inflate(&stream, Z_NO_FLUSH);
        out.append(buffer, sizeof(buffer) - stream.avail_out);
    }
    inflateEnd(&stream);
    EXPECT_EQ(rc, Z_STREAM_END);
    return out;
}

const Asset& MustFind(std::string_view path) {
    const Asset* asset = FindAsset(path);
    if (asset == nullptr) {
        ADD_FAILURE() << path << " is not embedded";
        static const Asset kMissing{};
        return kMissing;
    }
    return *asset;
}

/// Local URLs that `text` makes the browser load before any data arrives: stylesheets, module
/// scripts and module preloads in HTML; static `import ... from '...'` in JS (dynamic `import()`
/// is deliberately not matched: those pages load later).
std::vector<std::string> StaticReferences(const Asset& asset) {
    std::vector<std::string> refs;
    const std::string text(asset.bytes);
    std::vector<std::regex> patterns;
    if (asset.content_type.starts_with("text/html")) {
        patterns.emplace_back(R"re(<link[^>]*rel="(?:stylesheet|modulepreload|icon)"[^>]*href="([^"]+)")re");
        patterns.emplace_back(R"re(<script[^>]*src="([^"]+)")re");
    } else if (asset.content_type.starts_with("text/javascript")) {
        patterns.emplace_back(R"re((?:^|\n)\s*import\s[^;()]*?from\s*'([^']+)')re");
        patterns.emplace_back(R"re((?:^|\n)\s*import\s*'([^']+)')re");
    }
    for (const auto& pattern : patterns) {
        for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
            std::string ref = (*it)[1];
            if (ref.starts_with("./")) {
                const std::string_view base = asset.path.substr(0, asset.path.rfind('/') + 1);
                ref = std::string(base) + ref.substr(2);
            }
            refs.push_back(ref);
        }
    }
    return refs;
}

TEST(EmbeddedAssets, IndexHtmlIsServedAtRootWithHtmlType) {
    const Asset& index = MustFind("/index.html");
    EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
    EXPECT_THAT(std::string(index.bytes), StartsWith("<!doctype html>"));
    EXPECT_EQ(FindAsset("/"), &index);
}

TEST(EmbeddedAssets, DashboardPagesResolveToIndexHtmlSoReloadsWork) {
    const Asset* index = FindAsset("/index.html");
    ASSERT_NE(index, nullptr);
    for (const char* page : {"/attention", "/stats", "/notifications", "/instances/ins_123"}) {
        EXPECT_EQ(FindAsset(page), index) << page;
    }
}

TEST(EmbeddedAssets, ApiAndUnknownPathsAreNotAssets) {
    for (const char* path : {"/api/v1/instances", "/metrics", "/healthz", "/readyz", "/badge/x.svg", "/instances/",
                             "/instances/a/b", "/nope.js", "", "/js/"}) {
        EXPECT_EQ(FindAsset(path), nullptr) << path;
    }
}

TEST(EmbeddedAssets, ScriptsStylesAndUplotHaveTheirContentTypes) {
    EXPECT_EQ(MustFind("/app.css").content_type, "text/css; charset=utf-8");
    EXPECT_EQ(MustFind("/js/main.js").content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(MustFind("/js/fleet.js").content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(MustFind("/favicon.svg").content_type, "image/svg+xml");
    const Asset& uplot = MustFind("/vendor/uPlot.iife.min.js");
    EXPECT_EQ(uplot.content_type, "text/javascript; charset=utf-8");
    EXPECT_THAT(std::string(uplot.bytes), HasSubstr("uPlot"));
    EXPECT_EQ(MustFind("/vendor/uPlot.min.css").content_type, "text/css; charset=utf-8");
}

TEST(EmbeddedAssets, EveryAssetHasADistinctStrongEtag) {
    std::set<std::string_view> etags;
    ASSERT_FALSE(AllAssets().empty());
    for (const Asset& asset : AllAssets()) {
        EXPECT_THAT(std::string(asset.etag), StartsWith("\"sha256-")) << asset.path;
        EXPECT_TRUE(asset.etag.ends_with('"')) << asset.path;
        EXPECT_TRUE(etags.insert(asset.etag).second) << "duplicate ETag for " << asset.path;
        if (!asset.gzip_bytes.empty()) {
            EXPECT_NE(asset.gzip_etag, asset.etag) << asset.path;
            EXPECT_TRUE(etags.insert(asset.gzip_etag).second) << asset.path;
        } else {
            EXPECT_TRUE(asset.gzip_etag.empty()) << asset.path;
        }
    }
}

TEST(EmbeddedAssets, GzipVariantsDecompressToTheFileAndAreSmaller) {
    int gzipped = 0;
    for (const Asset& asset : AllAssets()) {
        if (asset.gzip_bytes.empty()) {
            continue;
        }
        ++gzipped;
        EXPECT_LT(asset.gzip_bytes.size(), asset.bytes.size()) << asset.path;
        EXPECT_EQ(Gunzip(asset.gzip_bytes), asset.bytes) << asset.path;
    }
    // The JS and CSS compress well; a build that stopped gzipping would lose the variants.
    EXPECT_GE(gzipped, 5);
}

TEST(EmbeddedAssets, AssetsAreSortedByPathForTheLookup) {
    const auto assets = AllAssets();
    for (std::size_t i = 1; i < assets.size(); ++i) {
        EXPECT_LT(assets[i - 1].path, assets[i].path);
    }
}

TEST(EmbeddedAssets, NothingIsLoadedFromAnotherOriginAndNoWebFonts) {
    for (const Asset& asset : AllAssets()) {
        const std::string text(asset.bytes);
        if (asset.content_type.starts_with("text/css")) {
            EXPECT_EQ(text.find("@font-face"), std::string::npos) << asset.path;
            EXPECT_EQ(text.find("@import"), std::string::npos) << asset.path;
            EXPECT_EQ(text.find("url(http"), std::string::npos) << asset.path;
        }
        for (const std::string& ref : StaticReferences(asset)) {
            EXPECT_THAT(ref, StartsWith("/")) << asset.path << " loads " << ref;
            EXPECT_FALSE(ref.starts_with("//")) << asset.path << " loads " << ref;
        }
    }
}

TEST(EmbeddedAssets, FirstPaintSetIsEmbeddedAndUnder100KB) {
    // Everything the browser fetches before the first API answer: index.html and the closure of
    // what it references statically (CSS, module scripts, their static imports, the icon).
    std::set<std::string> seen;
    std::vector<std::string> todo = {"/index.html"};
    std::size_t total = 0;
    while (!todo.empty()) {
        const std::string path = todo.back();
        todo.pop_back();
        if (!seen.insert(path).second) {
            continue;
        }
        const Asset* asset = FindAsset(path);
        ASSERT_NE(asset, nullptr) << path << " is referenced but not embedded";
        total += asset->bytes.size();
        for (std::string& ref : StaticReferences(*asset)) {
            todo.push_back(std::move(ref));
        }
    }
    EXPECT_TRUE(seen.contains("/app.css"));
    EXPECT_TRUE(seen.contains("/js/main.js"));
    EXPECT_TRUE(seen.contains("/js/fleet.js"));
    EXPECT_FALSE(seen.contains("/vendor/uPlot.iife.min.js")) << "charts must load after the first paint";
    EXPECT_LT(total, kFirstPaintBudgetBytes) << "first paint is " << total << " bytes uncompressed";
    RecordProperty("first_paint_bytes", static_cast<int>(total));
}

}  // namespace
}  // namespace railwatch::web
