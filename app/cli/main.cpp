#include "app/cli/commands.hpp"

int main(int argc, char** argv) {
    return isolab::cli::cli_main(std::vector<std::string>(argv + 1, argv + argc));
}
