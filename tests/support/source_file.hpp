#pragma once

#include <string>

namespace railwatch::test {

/// The text of a file of the source tree (`relative` to its root: "README.md", "docs/API.md"), for
/// tests that hold the docs to the code; empty when it cannot be read (the test then fails on its
/// expectations, not here).
std::string ReadSourceFile(const std::string& relative);

}  // namespace railwatch::test
