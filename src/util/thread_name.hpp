#pragma once

#include <string>
#include <string_view>

/// Names for the process's threads, as `top -H`, `ps -L`, `perf` and debuggers show them.
namespace railwatch::util {

/// Names the calling thread (Linux keeps at most 15 bytes: a longer name is cut there). Call it
/// first thing in a thread's function. Best effort: a name the system refuses changes nothing.
void NameThisThread(std::string_view name);

/// The calling thread's name as the system keeps it ("" when it cannot be read).
std::string ThisThreadName();

}  // namespace railwatch::util
