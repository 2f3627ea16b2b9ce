// `isolab completion bash`: a bash completion script generated from the parser's own verb and
// flag tables (args.hpp verb_infos), so that every verb and flag the parser knows is completed
// and nothing else is. tools/setup.sh installs it as
// /usr/share/bash-completion/completions/isolab.
#pragma once

#include <iosfwd>
#include <string>

#include "app/cli/args.hpp"

namespace isolab::cli {

// The script: the function _isolab bound with `complete -F _isolab isolab`. It completes verbs,
// the subcommands of `container`, `image` and `system`, each verb's flags (hidden aliases are
// skipped, but their values are), file names after -o/-i/--file/--env-file-like flags, and for
// positionals what the verb's usage line names: container names (`isolab ps -a --format
// '{{.Names}}'`), images (`isolab images --format '{{.Repository}}:{{.Tag}}'`), directories for
// PATH, files for FILE. A `--root PATH` typed before the verb is passed on to those listings.
// Works with the bash-completion package (_init_completion) and without it.
std::string bash_completion_script();

int run_completion_command(const Command& c, std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
