#include "web/embedded_assets.hpp"

#include <algorithm>
#include <array>

namespace railwatch::web {
namespace {

/// Paths the page routes itself (web/js/main.js); a reload of any of them needs index.html.
bool IsDashboardPage(std::string_view path) {
    constexpr std::array<std::string_view, 4> kPages = {"/", "/attention", "/stats", "/notifications"};
    if (std::find(kPages.begin(), kPages.end(), path) != kPages.end()) {
        return true;
    }
    constexpr std::string_view kInstance = "/instances/";
    if (!path.starts_with(kInstance) || path.size() == kInstance.size()) {
        return false;
    }
    // One path segment: an instance id, never a file or a deeper path.
    return path.substr(kInstance.size()).find('/') == std::string_view::npos;
}

}  // namespace

std::span<const Asset> AllAssets() {
    return {detail::kAssets, detail::kAssetCount};
}

const Asset* FindAsset(std::string_view path) {
    if (IsDashboardPage(path)) {
        path = "/index.html";
    }
    const auto assets = AllAssets();
    const auto it = std::lower_bound(assets.begin(), assets.end(), path,
                                     [](const Asset& asset, std::string_view p) { return asset.path < p; });
    if (it == assets.end() || it->path != path) {
        return nullptr;
    }
    return &*it;
}

}  // namespace railwatch::web
