#pragma once

#include <chrono>
#include <string>

#include "support/child_process.hpp"

namespace railwatch::test {

/// Waits until `log_file` holds a line matching `pattern` (an ECMAScript regex whose first group
/// is a port number, e.g. "listening on http://127\\.0\\.0\\.1:([0-9]+)"), the child is gone,
/// or `timeout` passes. Returns the port, or 0 when there was none. Polls every 20 ms.
int WaitForReadyPort(const ChildProcess& child, const std::string& log_file, const std::string& pattern,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// The whole content of `path` ("" when it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace railwatch::test
