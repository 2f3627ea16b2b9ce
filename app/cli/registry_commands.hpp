// `isolab login`, `isolab logout` and `isolab search`: Docker 28's client side over the registry
// client (sim/engine/registry.hpp) and the credential file (sim/engine/credential_store.hpp).
// None of them needs the engine or the state root.
//
// Measured against the Docker 28.2.2 client (its login falls back to its client-side code when no
// daemon answers, which is moby's registry code; logout is client-side) and read from docker/cli
// and moby for search (the daemon side). The words are Docker's with "docker" replaced by
// "isolab"; what IsoLab says on its own (the refusal of -p, the note that replaces Docker's advice
// to configure a credential helper, the offline hint) is in the learner's language.
//
// Deliberate differences from Docker:
//   * `login -p/--password` is refused (a password typed on the command line stays in the shell's
//     history and shows in `ps`): --password-stdin or the prompt. Docker accepts it with a warning.
//   * Docker Hub's web-based (device code) login is not offered: `isolab login` on a terminal asks
//     for a user name and a password (or access token) for every registry.
//   * The password is stored, never an identity (refresh) token.
//   * `logout docker.io` removes Docker Hub's entry (Docker 28 looks for a "docker.io" key there).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "sim/core/result.hpp"
#include "sim/engine/registry.hpp"

namespace isolab::cli {

// `login [-u USER] [--password-stdin] [SERVER]`. Reads stdin (fd 0), prompts on it when it is a
// terminal, prints "Login Succeeded" to OUT and the rest to ERR. Exit 0 or 1.
int run_login_command(const Command& c, std::ostream& out, std::ostream& err);
// `logout [SERVER]`: "Removing login credentials for HOST", exit 0 (as Docker, also when there
// was nothing to remove).
int run_logout_command(const Command& c, std::ostream& out, std::ostream& err);
// `search [--filter F] [--limit N] [--no-trunc] [--format T] TERM`. Exit 0 or 1.
int run_search_command(const Command& c, std::ostream& out, std::ostream& err);

// A registry error with its offline hint (kRegistryOfflineHint) in the learner's language.
Error localized_registry_error(Error e);

// `search --filter` as moby's daemon reads it: keys is-official, is-automated (bools) and stars
// (integers: the largest counts). Errors: "invalid filter 'foo'", "invalid filter
// 'is-official=maybe'", "invalid filter 'stars=x': strconv.Atoi: parsing \"x\": invalid syntax".
struct SearchFilter {
    bool official_given = false, official = false;
    bool automated_given = false, automated = false;
    bool stars_given = false;
    int64_t min_stars = 0;
};
Result<SearchFilter> parse_search_filter(const std::vector<std::string>& words);
// The results the filter keeps, in the registry's order.
std::vector<SearchResult> filter_search_results(const std::vector<SearchResult>& results, const SearchFilter& f);
// Docker 28's table (NAME DESCRIPTION STARS OFFICIAL; the description on one line, cut to 45
// characters with "…" unless NO_TRUNC) or FORMAT (a Go template, "table …", "json").
Status print_search_results(const std::vector<SearchResult>& results, const std::string& format, bool no_trunc,
                            std::ostream& out);

}  // namespace isolab::cli
