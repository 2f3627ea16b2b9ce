// `isolab runtime ...` (an OCI runtime command-line interface, runtime-tools
// docs/command-line-interface.md, runc-compatible flags) and `isolab bundle ...` (write an OCI
// bundle for an IsoLab container). Thin over sim/runtime/oci_runtime and oci_spec (STYLE §1).
#pragma once

#include <string>
#include <vector>

namespace isolab::cli {

// args after "runtime" → exit code. Errors are one line on stderr naming the container (exit 1).
int run_runtime_command(const std::vector<std::string>& args);

// args after "bundle" → exit code.
int run_bundle_command(const std::vector<std::string>& args);

}  // namespace isolab::cli
