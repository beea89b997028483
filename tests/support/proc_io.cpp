#include "support/proc_io.hpp"

#include <fstream>
#include <string>

namespace railwatch::test {

long long ProcessIo(std::string_view key) {
    std::ifstream io("/proc/self/io");
    std::string name;  // "syscr:" and so on
    long long value = 0;
    while (io >> name >> value)
        if (name.size() == key.size() + 1 && name.back() == ':' && name.compare(0, key.size(), key) == 0) return value;
    return -1;
}

}  // namespace railwatch::test
