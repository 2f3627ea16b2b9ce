// `--filter KEY=VALUE` of `ps`, `images` and `network ls`, with the semantics of Docker 28's daemon
// (moby daemon/list.go, daemon/images/images.go, daemon/network/filter.go and
// api/types/filters/parse.go) and the client's parsing (docker/cli opts.FilterOpt).
//
// The matching here is pure: it works on records the caller hands in (containers newest first,
// image facts, networks), so every rule is unit-tested without an engine (tests/app/test_filters.cpp).
//
// How values combine, as Docker's filters.Args does it:
// - values of one key are OR'ed (`-f status=exited -f status=created`), different keys AND'ed;
// - except `label`, whose values must ALL match (Docker's MatchKVList);
// - `name` and the network `name`/`id` match when a value equals the field or, as a Go regular
//   expression, matches anywhere in it (`name=web` matches `myweb1`; `name=^web$` only `web`).
//   IsoLab compiles the value as an ECMAScript regex; a value that does not compile matches only
//   itself, as Docker skips a regexp it cannot compile.
//
// Errors are Docker's words. A key the command does not know: "invalid filter 'foo'"; a bad value:
// "invalid filter 'status=foo'", `strconv.Atoi: parsing "x": invalid syntax` (exited),
// "No such container: x" (before/since), "No such image: x:latest" (images before/since). The
// caller prints them after "Error response from daemon: " and exits 1, as the Docker CLI does.
// A word without '=' is the client's error (bad_filter_format), exit 125.
//
// Deliberate differences from Docker:
// - ps `before`/`since` take a full id, a name, or a unique id prefix; Docker 28 looks up the full
//   id or the name only (its docs still show a short id, which older daemons took).
// - ps `label` looks at the container's own labels (what `inspect` shows under Config.Labels);
//   Docker also copies the image's labels into the container at create time.
// - ps `ancestor`'s descendants are the images whose layers extend the ancestor's (the rule of
//   Docker's containerd image store); a name, `sha256:ID` or an id prefix is looked up, a digest
//   reference (`name@sha256:...`) finds nothing, as IsoLab keeps no registry digests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/net/networks.hpp"
#include "sim/state/container.hpp"

namespace isolab::cli {

// The reason the Docker CLI gives for a --filter word without '=' (pflag adds
// `invalid argument "W" for "-f, --filter" flag: ` and the usage footer; exit 125).
inline constexpr const char* kBadFilterFormat = "bad format of filter (expected name=value)";

// Filter words, parsed as Docker's opts.FilterOpt: KEY lowercased and both sides trimmed of
// spaces; an empty word is ignored; a value repeated under one key counts once. Keys keep the
// order they were typed in, values too (Docker's are an unordered set: where Docker's answer would
// depend on Go's map order, the first value typed decides here).
class FilterArgs {
public:
    // Error: kBadFilterFormat (exit 125) for a word without '='.
    static Result<FilterArgs> parse(const std::vector<std::string>& words);
    // One word as the parser stores it ("Status = exited" → "status=exited"); "" for an empty word.
    static Result<std::string> normalize(const std::string& word);

    bool empty() const { return keys_.empty(); }
    bool contains(const std::string& key) const { return fields_.count(key) != 0; }
    const std::vector<std::string>& get(const std::string& key) const;
    const std::vector<std::string>& keys() const { return keys_; }

    // "invalid filter 'KEY'" (exit 1) for the first key not in ACCEPTED.
    Status validate(const std::vector<std::string>& accepted) const;
    // No value under KEY, or SOURCE equals one of them.
    bool exact_match(const std::string& key, const std::string& source) const;
    // exact_match, or one of the values as a regular expression matches inside SOURCE.
    bool match(const std::string& key, const std::string& source) const;
    // Every value "k" or "k=v" under KEY is in LABELS (true when KEY has no value).
    bool match_kv_list(const std::string& key, const std::map<std::string, std::string>& labels) const;
    // "true"/"1" or "false"/"0"; DEFAULT without the key; "invalid filter 'KEY=[v1 v2]'" otherwise.
    Result<bool> get_bool_or_default(const std::string& key, bool dflt) const;

private:
    std::vector<std::string> keys_;
    std::map<std::string, std::vector<std::string>> fields_;
};

// What the filters need to know of an image.
struct ImageFacts {
    std::string id;                        // sha256:<hex>
    std::vector<std::string> repo_tags;    // "busybox:latest"
    std::vector<std::string> diff_ids;     // rootfs.diff_ids, lowest first
    std::string created;                   // RFC 3339
    std::map<std::string, std::string> labels;
};

// The image REF names (a name with an optional tag, "sha256:<hex>", or a unique id prefix of at
// least one hex digit), or nullptr.
const ImageFacts* find_image(const std::vector<ImageFacts>& images, const std::string& ref);

// ---- docker ps

struct PsQuery {
    bool all = false;  // -a
    int limit = -1;    // -n N, or 1 for -l (Docker's ListOptions.Limit: > 0 limits and shows all states)
};

// The containers `docker ps` shows: ALL_NEWEST_FIRST is every container of the state root, newest
// first (the order is kept). IMAGES is consulted for `ancestor` only.
Result<std::vector<ContainerRecord>> filter_containers(const std::vector<ContainerRecord>& all_newest_first,
                                                       const FilterArgs& filters, const PsQuery& query,
                                                       const std::vector<ImageFacts>& images);

// ---- docker images

// One image as `docker images` lists it: the tags to show (empty: the image is untagged, shown as
// <none>).
struct ImageMatch {
    size_t index;                   // into the IMAGES given
    std::vector<std::string> tags;  // sorted
};

// The images `docker images [REPOSITORY[:TAG]]` lists, newest first. Docker's client turns the
// REPOSITORY[:TAG] argument into a `reference` filter; so does the caller. NOW_NS is the time
// `until` durations count back from.
Result<std::vector<ImageMatch>> filter_images(const std::vector<ImageFacts>& images, const FilterArgs& filters,
                                              int64_t now_ns);

// Go's path.Match, which Docker's reference filter uses on "name:tag" and "name": '*' any run of
// characters but '/', '?' one such character, '[...]' a class ('^' negates; ranges), '\\' quotes.
// Error: "syntax error in pattern" (Go's ErrBadPattern).
Result<bool> go_path_match(const std::string& pattern, const std::string& name);

// ---- docker network ls

// NETWORKS as `docker network ls` lists them; IN_USE[i] says whether a container is on
// networks[i] (for `dangling`).
Result<std::vector<net::Network>> filter_networks(const std::vector<net::Network>& networks,
                                                  const std::vector<bool>& in_use, const FilterArgs& filters);

}  // namespace isolab::cli
