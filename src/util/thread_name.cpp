#include "util/thread_name.hpp"

#include <pthread.h>

#include <array>

namespace railwatch::util {

void NameThisThread(std::string_view name) {
    std::array<char, 16> kept{};  // 15 bytes and the terminator: Linux's limit
    name = name.substr(0, kept.size() - 1);
    name.copy(kept.data(), name.size());
    (void)pthread_setname_np(pthread_self(), kept.data());
}

std::string ThisThreadName() {
    std::array<char, 16> name{};
    if (pthread_getname_np(pthread_self(), name.data(), name.size()) != 0) return {};
    return name.data();
}

}  // namespace railwatch::util
