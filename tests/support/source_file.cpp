#include "support/source_file.hpp"

#include <fstream>
#include <sstream>

namespace railwatch::test {

std::string ReadSourceFile(const std::string& relative) {
    std::ifstream in(std::string(RAILWATCH_SOURCE_DIR) + "/" + relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace railwatch::test
