// isolab-monitor: the per-container monitor process (see sim/runtime/monitor.hpp). Kept as its own
// small binary so that a running container costs the host as little memory as possible.
#include "sim/runtime/monitor.hpp"

int main(int argc, char** argv) { return isolab::monitor_main(argc, argv); }
