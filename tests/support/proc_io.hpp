#pragma once

#include <string_view>

namespace railwatch::test {

/// This process's count named `key` in /proc/self/io ("syscr": read calls, "syscw": write calls,
/// "wchar": bytes written, ...), or -1 when the file or the key cannot be read.
long long ProcessIo(std::string_view key);

}  // namespace railwatch::test
