// `isolab export` and `isolab import`: Docker 28's client side (its checks, words and exit codes)
// over the engine's export_container and import_image (sim/engine/export_import.hpp).
#pragma once

#include <iosfwd>
#include <string>

#include "app/cli/args.hpp"
#include "sim/core/result.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// `export [-o FILE] CONTAINER`. Refuses a terminal as stdout ("cowardly refusing to save to a
// terminal. Use the -o flag or redirect", exit 1); -o in a directory that does not exist is
// Docker's "failed to export container: invalid output path: stat DIR: no such file or directory".
int run_export_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);

// `import [-c CHANGE]... [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]`: prints "sha256:<id>". A URL is
// refused in one line (IsoLab downloads nothing); a file that cannot be opened gives Go's
// "open FILE: no such file or directory"; a bad name Docker's "invalid reference format".
int run_import_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);

// Docker's client-side reference check (reference.ParseNormalizedNamed) in its words: "" when
// NAME is a valid REPOSITORY[:TAG], else "invalid reference format: repository name
// (library/BAD) must be lowercase" or "invalid reference format".
std::string reference_format_error(const std::string& name);

// Go's error text for a failed os.Open / os.Stat: "open PATH: no such file or directory".
std::string go_path_error(const std::string& op, const std::string& path, int err);

}  // namespace isolab::cli
