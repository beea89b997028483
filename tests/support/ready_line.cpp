#include "support/ready_line.hpp"

#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace railwatch::test {

int WaitForReadyPort(const ChildProcess& child, const std::string& log_file, const std::string& pattern,
                     std::chrono::milliseconds timeout) {
    const std::regex ready(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch m;
        const std::string text = ReadWholeFile(log_file);
        if (std::regex_search(text, m, ready)) return std::stoi(m[1]);
        if (::kill(child.pid(), 0) != 0) return 0;  // gone (a zombie still answers: then the timeout ends it)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

std::string ReadWholeFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace railwatch::test
