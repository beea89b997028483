#include "cli/run.hpp"

int main(int argc, char** argv) {
    return railwatch::cli::Run(argc, argv);
}
