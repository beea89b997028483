#pragma once

#include <filesystem>
#include <string>
#include <string_view>

/// A fresh directory under the system temp dir, removed with everything in it when the object
/// goes away (also when a test fails). Not thread-safe; move-only.
namespace railwatch::test {

class TempDir {
  public:
    /// Creates `<tmp>/<prefix>XXXXXX` (mkdtemp, mode 0700). Throws std::runtime_error when it
    /// cannot (a test set-up failure, not a condition to handle).
    explicit TempDir(std::string_view prefix = "railwatch-");
    ~TempDir();

    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    /// path() / name, as a string.
    std::string File(std::string_view name) const;

  private:
    std::filesystem::path path_;
};

}  // namespace railwatch::test
