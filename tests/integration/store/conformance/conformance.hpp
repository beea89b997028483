#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.hpp"

/// The store conformance suite: one set of tests (conformance_test.cpp) that every backend
/// must pass. Each backend's test binary instantiates it with a StoreBackend:
///   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(SqliteBackend()), BackendName);
namespace railwatch::store::test {

/// How to get a fresh, empty database for one test.
struct StoreBackend {
    std::string name;  ///< "Sqlite", "Postgres" (test-name suffix)
    /// Returns the URL of a new empty database; `hint` is unique per call.
    std::function<std::string(const std::string& hint)> fresh_url;
};

/// gtest prints the backend by name instead of dumping its bytes.
inline void PrintTo(const StoreBackend& backend, std::ostream* os) {
    *os << backend.name;
}

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info);

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
  protected:
    void SetUp() override;
    /// Opens another Store on the same database (a second process would do the same).
    std::unique_ptr<Store> OpenAgain(bool migrate = true) const;

    std::string url_;
    std::unique_ptr<Store> store_;
};

}  // namespace railwatch::store::test
