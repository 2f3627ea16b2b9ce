// Tests for `--filter` of ps, images and network ls (app/cli/filters.hpp) and the text forms of
// the listings (app/cli/list_format.hpp).
//
// The rules and error words are Docker 28's (moby's api/types/filters, daemon/list.go,
// daemon/images/images.go, daemon/network/filter.go; the client's opts.FilterOpt). The path.Match
// table is Go's own (src/path/match_test.go).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "app/cli/filters.hpp"
#include "app/cli/list_format.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"

using namespace isolab;
using namespace isolab::cli;

namespace {

FilterArgs args(const std::vector<std::string>& words) {
    auto f = FilterArgs::parse(words);
    REQUIRE(f.ok());
    return *f;
}

// A 64-hex id that starts with PREFIX.
std::string id_from(const std::string& prefix) { return prefix + std::string(64 - prefix.size(), '0'); }

struct Rec {
    std::string id_prefix, name;
    ContainerState state = ContainerState::Running;
    int exit_code = 0;
    bool started = true;
    std::map<std::string, std::string> labels = {};
    std::string image = "sha256:ba5e";
    std::vector<std::pair<std::string, std::string>> networks = {{"bridge", "b0b0"}};
};

ContainerRecord record(const Rec& r) {
    ContainerRecord c;
    c.id = id_from(r.id_prefix);
    c.name = r.name;
    c.state = r.state;
    c.exit_code = r.exit_code;
    if (r.started) c.started_at = "2026-12-07T12:00:00Z";
    c.spec.labels = r.labels;
    c.image_id = r.image;
    for (const auto& [name, id] : r.networks) {
        net::Endpoint ep;
        ep.network = name;
        ep.network_id = id_from(id);
        c.endpoints.push_back(ep);
    }
    return c;
}

// Newest first, as the engine lists them.
std::vector<ContainerRecord> sample() {
    return {
        record({"aa11", "web", ContainerState::Running, 0, true, {{"team", "web"}, {"tier", "front"}}}),
        record({"aa22", "myweb1", ContainerState::Exited, 3, true, {{"team", "web"}}, "sha256:c41d"}),
        record({"bb33", "db", ContainerState::Created, 0, false, {{"tier", "back"}}, "sha256:0f4e",
                {{"backend", "c0c0"}}}),
        record({"cc44", "old", ContainerState::Exited, 0, true, {}, "sha256:ba5e", {}}),
        record({"dd55", "frozen", ContainerState::Paused}),
    };
}

std::vector<ImageFacts> sample_images() {
    return {
        {"sha256:ba5e", {"busybox:latest"}, {"sha256:l1"}, "2026-01-01T00:00:00Z", {}},
        {"sha256:c41d", {"app:v1", "app:v2"}, {"sha256:l1", "sha256:l2"}, "2026-02-01T00:00:00Z", {{"team", "web"}}},
        {"sha256:0f4e", {"tools/debug:1"}, {"sha256:x9"}, "2026-03-01T00:00:00Z", {{"team", "ops"}, {"tier", "back"}}},
        {"sha256:0dd", {}, {"sha256:l1", "sha256:l3"}, "2026-04-01T00:00:00Z", {}},
    };
}

std::vector<std::string> ps(const std::vector<std::string>& words, PsQuery q = {},
                            std::vector<ContainerRecord> recs = sample()) {
    auto out = filter_containers(recs, args(words), q, sample_images());
    REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().message));
    std::vector<std::string> names;
    for (const auto& r : *out) names.push_back(r.name);
    return names;
}

Error ps_error(const std::vector<std::string>& words, PsQuery q = {}) {
    auto out = filter_containers(sample(), args(words), q, sample_images());
    REQUIRE_FALSE(out.ok());
    return out.error();
}

PsQuery all() {
    PsQuery q;
    q.all = true;
    return q;
}

using Names = std::vector<std::string>;

}  // namespace

// ---- FilterArgs: the client's parsing and filters.Args' matching.

TEST_CASE("filters: a word is KEY=VALUE, key lowercased, both sides trimmed; empty words are dropped") {
    CHECK(FilterArgs::normalize("Status = exited").value() == "status=exited");
    CHECK(FilterArgs::normalize("label=a=b").value() == "label=a=b");  // only the first '=' splits
    CHECK(FilterArgs::normalize("name=").value() == "name=");
    CHECK(FilterArgs::normalize("").value().empty());
    auto bad = FilterArgs::normalize("exited");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "bad format of filter (expected name=value)");
    CHECK(bad.error().exit_code == 125);
    CHECK_FALSE(FilterArgs::parse({"status=exited", "oops"}).ok());

    auto f = args({"NAME=web", "", "status=exited", "name=web", "name=db"});
    CHECK(f.keys() == std::vector<std::string>{"name", "status"});
    CHECK(f.get("name") == std::vector<std::string>{"web", "db"});  // a repeated value counts once
    CHECK(f.get("label").empty());
    CHECK(f.contains("status"));
    CHECK_FALSE(f.contains("label"));
    CHECK(args({}).empty());
}

TEST_CASE("filters: validate names the first key the command does not know") {
    auto f = args({"name=a", "colour=red", "size=1"});
    auto s = f.validate({"name", "status"});
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "invalid filter 'colour'");
    CHECK(s.error().exit_code == 1);
    CHECK(args({"name=a"}).validate({"name"}).ok());
}

TEST_CASE("filters: match is an exact value or a regular expression found anywhere") {
    auto f = args({"name=web"});
    CHECK(f.match("name", "web"));
    CHECK(f.match("name", "myweb1"));
    CHECK_FALSE(f.match("name", "db"));
    CHECK(args({"name=^web$"}).match("name", "web"));
    CHECK_FALSE(args({"name=^web$"}).match("name", "myweb1"));
    // A value that is no regular expression matches only itself.
    CHECK(args({"name=[web"}).match("name", "[web"));
    CHECK_FALSE(args({"name=[web"}).match("name", "x[webx"));
    // No value under the key: everything matches.
    CHECK(f.match("id", "anything"));
    CHECK(f.exact_match("id", "anything"));
    CHECK_FALSE(f.exact_match("name", "myweb1"));
}

TEST_CASE("filters: label values must ALL be in the labels, a bare key only needs the key") {
    std::map<std::string, std::string> labels = {{"team", "web"}, {"tier", "front"}};
    CHECK(args({"label=team"}).match_kv_list("label", labels));
    CHECK(args({"label=team=web", "label=tier"}).match_kv_list("label", labels));
    CHECK_FALSE(args({"label=team=web", "label=tier=back"}).match_kv_list("label", labels));
    CHECK_FALSE(args({"label=owner"}).match_kv_list("label", labels));
    CHECK_FALSE(args({"label=team"}).match_kv_list("label", {}));
    CHECK(args({}).match_kv_list("label", {}));
    CHECK(args({"label=team="}).match_kv_list("label", {{"team", ""}}));
    CHECK_FALSE(args({"label=team="}).match_kv_list("label", labels));
}

TEST_CASE("filters: booleans are true/1 or false/0; a conflict or another word is refused") {
    CHECK(args({"dangling=true"}).get_bool_or_default("dangling", false).value());
    CHECK(args({"dangling=1"}).get_bool_or_default("dangling", false).value());
    CHECK_FALSE(args({"dangling=false"}).get_bool_or_default("dangling", true).value());
    CHECK_FALSE(args({"dangling=0"}).get_bool_or_default("dangling", true).value());
    CHECK(args({}).get_bool_or_default("dangling", true).value());
    auto both = args({"dangling=true", "dangling=false"}).get_bool_or_default("dangling", false);
    REQUIRE_FALSE(both.ok());
    CHECK(both.error().message == "invalid filter 'dangling=[true false]'");
    auto other = args({"dangling=yes"}).get_bool_or_default("dangling", false);
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().message == "invalid filter 'dangling=[yes]'");
    CHECK(other.error().exit_code == 1);
}

// ---- docker ps

TEST_CASE("ps filters: without -a only running, paused and restarting containers") {
    CHECK(ps({}) == Names{"web", "frozen"});
    CHECK(ps({}, all()) == Names{"web", "myweb1", "db", "old", "frozen"});
    auto recs = sample();
    recs[0].state = ContainerState::Restarting;
    CHECK(ps({}, {}, recs) == Names{"web", "frozen"});
}

TEST_CASE("ps filters: name matches with or without the leading slash, as a regular expression") {
    CHECK(ps({"name=web"}, all()) == Names{"web", "myweb1"});
    CHECK(ps({"name=^web$"}, all()) == Names{"web"});
    CHECK(ps({"name=^/db$"}, all()) == Names{"db"});
    CHECK(ps({"name=zzz-nomatch"}, all()).empty());
    CHECK(ps({"name=zzz-nomatch"}).empty());
}

TEST_CASE("ps filters: values of one key are OR'ed, keys are AND'ed") {
    CHECK(ps({"status=exited", "status=created"}) == Names{"myweb1", "db", "old"});
    CHECK(ps({"status=exited", "name=web"}) == Names{"myweb1"});
    CHECK(ps({"name=web", "name=db"}, all()) == Names{"web", "myweb1", "db"});
    CHECK(ps({"name=web", "label=tier"}, all()) == Names{"web"});
}

TEST_CASE("ps filters: each status names exactly one state and implies -a") {
    const std::pair<const char*, ContainerState> kStates[] = {
        {"created", ContainerState::Created},   {"restarting", ContainerState::Restarting},
        {"running", ContainerState::Running},   {"removing", ContainerState::Removing},
        {"paused", ContainerState::Paused},     {"exited", ContainerState::Exited},
        {"dead", ContainerState::Dead}};
    std::vector<ContainerRecord> recs;
    int i = 0;
    for (auto [word, state] : kStates) recs.push_back(record({"e" + std::to_string(i++), word, state}));
    for (auto [word, state] : kStates) {
        CAPTURE(word);
        CHECK(ps({std::string("status=") + word}, {}, recs) == Names{word});
    }
    auto e = ps_error({"status=foo"});
    CHECK(e.message == "invalid filter 'status=foo'");
    CHECK(e.exit_code == 1);
    CHECK(ps_error({"status=Running"}).message == "invalid filter 'status=Running'");
}

TEST_CASE("ps filters: exited=N matches stopped containers that ran and exited with N") {
    CHECK(ps({"exited=3"}, all()) == Names{"myweb1"});
    CHECK(ps({"exited=0"}, all()) == Names{"old"});  // not the running one, not the never-started one
    CHECK(ps({"exited=0", "exited=3"}, all()) == Names{"myweb1", "old"});
    CHECK(ps({"exited=+3"}, all()) == Names{"myweb1"});  // Go's Atoi takes a sign
    CHECK(ps({"exited=3"}).empty());  // exited does not imply -a
    CHECK(ps_error({"exited=x"}).message == "strconv.Atoi: parsing \"x\": invalid syntax");
    CHECK(ps_error({"exited=1.0"}).message == "strconv.Atoi: parsing \"1.0\": invalid syntax");
    CHECK(ps_error({"exited=99999999999999999999"}).message ==
          "strconv.Atoi: parsing \"99999999999999999999\": value out of range");
}

TEST_CASE("ps filters: label, id prefix, network name or id prefix") {
    CHECK(ps({"label=team=web"}, all()) == Names{"web", "myweb1"});
    CHECK(ps({"label=team=web", "label=tier"}, all()) == Names{"web"});
    CHECK(ps({"label=tier=back"}, all()) == Names{"db"});
    CHECK(ps({"id=aa1"}, all()) == Names{"web"});
    CHECK(ps({"id=" + id_from("cc44")}, all()) == Names{"old"});
    CHECK(ps({"id=aa"}, all()).empty());  // ambiguous, as Docker's truncindex
    CHECK(ps({"id=aa1", "id=bb"}, all()) == Names{"web", "db"});
    CHECK(ps({"id=0000"}, all()).empty());  // a prefix, not anywhere in the id
    CHECK(ps({"network=backend"}, all()) == Names{"db"});
    CHECK(ps({"network=c0c"}, all()) == Names{"db"});
    CHECK(ps({"network=bridge"}, all()) == Names{"web", "myweb1", "frozen"});
    CHECK(ps({"network=back"}, all()).empty());  // a name must be whole
}

TEST_CASE("ps filters: ancestor takes the image and the images built on its layers") {
    CHECK(ps({"ancestor=busybox"}, all()) == Names{"web", "myweb1", "old", "frozen"});
    CHECK(ps({"ancestor=app:v1"}, all()) == Names{"myweb1"});
    CHECK(ps({"ancestor=app:v2", "ancestor=tools/debug:1"}, all()) == Names{"myweb1", "db"});
    CHECK(ps({"ancestor=sha256:0f4e"}, all()) == Names{"db"});
    CHECK(ps({"ancestor=chi"}, all()).empty());  // not hex: no id prefix
    CHECK(ps({"ancestor=nope"}, all()).empty());  // an unknown image: nothing, no error
}

TEST_CASE("ps filters: before and since cut the newest-first list at a container") {
    CHECK(ps({"before=db"}, all()) == Names{"old", "frozen"});
    CHECK(ps({"since=db"}, all()) == Names{"web", "myweb1"});
    CHECK(ps({"since=old", "before=web"}, all()) == Names{"myweb1", "db"});
    CHECK(ps({"before=" + id_from("aa22")}, all()) == Names{"db", "old", "frozen"});
    CHECK(ps({"before=bb3"}, all()) == Names{"old", "frozen"});  // a unique id prefix
    CHECK(ps({"before=/db"}, all()) == Names{"old", "frozen"});
    CHECK(ps({"since=db"}) == Names{"web"});  // without -a still only running ones
    auto e = ps_error({"before=nope"});
    CHECK(e.message == "No such container: nope");
    CHECK(e.exit_code == 1);
    CHECK(ps_error({"since=aa"}).message == "No such container: aa");  // ambiguous prefix
}

TEST_CASE("ps filters: -n and -l limit what matched, in every state") {
    PsQuery n2;
    n2.limit = 2;
    CHECK(ps({}, n2) == Names{"web", "myweb1"});
    CHECK(ps({"status=exited"}, n2) == Names{"myweb1", "old"});
    CHECK(ps({"name=d"}, n2) == Names{"db", "old"});
    PsQuery latest;
    latest.limit = 1;
    CHECK(ps({}, latest) == Names{"web"});
    PsQuery zero;
    zero.limit = 0;  // Docker: no limit, running only
    CHECK(ps({}, zero) == Names{"web", "frozen"});
}

TEST_CASE("ps filters: health — the status word, none without State.Health, Docker's refusal of other words") {
    auto recs = sample();
    auto with = [](ContainerRecord& r, HealthStatus s) {
        HealthState h;
        h.status = s;
        r.health = h;
    };
    with(recs[0], HealthStatus::Healthy);    // web
    with(recs[1], HealthStatus::Unhealthy);  // myweb1, exited: Docker leaves it unhealthy
    with(recs[4], HealthStatus::Starting);   // frozen
    CHECK(ps({"health=healthy"}, {}, recs) == Names{"web"});
    CHECK(ps({"health=unhealthy"}, all(), recs) == Names{"myweb1"});
    CHECK(ps({"health=unhealthy"}, {}, recs).empty());  // running only without -a
    CHECK(ps({"health=starting"}, {}, recs) == Names{"frozen"});
    CHECK(ps({"health=none"}, all(), recs) == Names{"db", "old"});
    CHECK(ps({"health=healthy", "health=starting"}, {}, recs) == Names{"web", "frozen"});
    CHECK(ps({"health=healthy", "name=db"}, all(), recs).empty());
    for (const char* bad : {"Healthy", "ok", "", "health: starting"}) {
        auto e = ps_error({std::string("health=") + bad});
        CHECK(e.message == std::string("Unrecognised filter value for health: ") + bad);
        CHECK(e.exit_code == 1);
    }
}

TEST_CASE("ps filters: unknown keys and the keys IsoLab cannot answer are refused") {
    auto e = ps_error({"colour=red"});
    CHECK(e.message == "invalid filter 'colour'");
    CHECK(e.exit_code == 1);
    for (const char* key : {"expose", "publish", "isolation", "is-task"}) {
        auto u = ps_error({std::string(key) + "=x"});
        CHECK(u.exit_code == 125);
        CHECK(u.message.find(key) != std::string::npos);
    }
    // An unknown key is found before a bad value of a known one.
    CHECK(ps_error({"status=foo", "colour=red"}).message == "invalid filter 'colour'");
}

// ---- docker images

namespace {

std::vector<std::string> images(const std::vector<std::string>& words, int64_t now = 0) {
    auto list = sample_images();
    auto out = filter_images(list, args(words), now);
    REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().message));
    std::vector<std::string> rows;
    for (const auto& m : *out) {
        if (m.tags.empty()) rows.push_back("<none>:" + list[m.index].id);
        for (const auto& t : m.tags) rows.push_back(t);
    }
    return rows;
}

Error images_error(const std::vector<std::string>& words) {
    auto out = filter_images(sample_images(), args(words), 0);
    REQUIRE_FALSE(out.ok());
    return out.error();
}

}  // namespace

TEST_CASE("images filters: newest first, an untagged image as <none>; dangling picks those") {
    CHECK(images({}) == Names{"<none>:sha256:0dd", "tools/debug:1", "app:v1", "app:v2", "busybox:latest"});
    CHECK(images({"dangling=true"}) == Names{"<none>:sha256:0dd"});
    CHECK(images({"dangling=1"}) == Names{"<none>:sha256:0dd"});
    CHECK(images({"dangling=false"}) == Names{"tools/debug:1", "app:v1", "app:v2", "busybox:latest"});
    CHECK(images_error({"dangling=maybe"}).message == "invalid filter 'dangling=[maybe]'");
    CHECK(images_error({"dangling=true", "dangling=0"}).message == "invalid filter 'dangling=[true 0]'");
    CHECK(images_error({"digest=x"}).message == "invalid filter 'digest'");
}

TEST_CASE("images filters: reference is Go's path.Match on name:tag or on the name") {
    CHECK(images({"reference=app"}) == Names{"app:v1", "app:v2"});
    CHECK(images({"reference=app:v2"}) == Names{"app:v2"});
    CHECK(images({"reference=app:v*"}) == Names{"app:v1", "app:v2"});
    CHECK(images({"reference=*"}) == Names{"app:v1", "app:v2", "busybox:latest"});  // '*' stops at '/'
    CHECK(images({"reference=*/*"}) == Names{"tools/debug:1"});
    CHECK(images({"reference=busybox", "reference=tools/*"}) == Names{"tools/debug:1", "busybox:latest"});
    CHECK(images({"reference=ap"}).empty());
    auto bad = images_error({"reference=app["});
    CHECK(bad.message == "syntax error in pattern");
    CHECK(bad.exit_code == 1);
}

TEST_CASE("images filters: label, before, since and until") {
    CHECK(images({"label=team"}) == Names{"tools/debug:1", "app:v1", "app:v2"});
    CHECK(images({"label=team=web"}) == Names{"app:v1", "app:v2"});
    CHECK(images({"label=team", "label=tier=back"}) == Names{"tools/debug:1"});
    CHECK(images({"before=tools/debug:1"}) == Names{"app:v1", "app:v2", "busybox:latest"});
    CHECK(images({"before=tools/debug:1", "before=app:v1"}) == Names{"busybox:latest"});  // the oldest
    CHECK(images({"since=app:v2"}) == Names{"<none>:sha256:0dd", "tools/debug:1"});
    CHECK(images({"since=busybox", "since=0f"}) == Names{"<none>:sha256:0dd"});  // the newest; an id prefix
    CHECK(images({"since=busybox", "before=0dd"}) == Names{"tools/debug:1", "app:v1", "app:v2"});
    const int64_t now = rfc3339_to_unix_ns("2026-03-15T00:00:00Z");
    CHECK(images({"until=312h"}, now) == Names{"tools/debug:1", "app:v1", "app:v2", "busybox:latest"});
    CHECK(images({"until=336h"}, now) == Names{"app:v1", "app:v2", "busybox:latest"});  // created < until
    CHECK(images({"until=2026-01-15T00:00:00Z"}, now) == Names{"busybox:latest"});
    auto e = images_error({"before=nope"});
    CHECK(e.message == "No such image: nope:latest");
    CHECK(e.exit_code == 1);
    CHECK(images_error({"since=app:v9"}).message == "No such image: app:v9");
    CHECK(images_error({"until=soon"}).message == "failed to parse value as time or duration: \"soon\"");
}

TEST_CASE("find_image: a name (tag :latest by default), sha256:ID or a unique id prefix") {
    auto list = sample_images();
    REQUIRE(find_image(list, "busybox") != nullptr);
    CHECK(find_image(list, "busybox")->id == "sha256:ba5e");
    CHECK(find_image(list, "app:v2")->id == "sha256:c41d");
    CHECK(find_image(list, "app") == nullptr);  // app:latest does not exist
    CHECK(find_image(list, "sha256:0f4e")->id == "sha256:0f4e");
    CHECK(find_image(list, "0d")->id == "sha256:0dd");
    CHECK(find_image(list, "ba")->id == "sha256:ba5e");
    CHECK(find_image(list, "") == nullptr);
}

TEST_CASE("go_path_match: Go's own table") {
    struct Case {
        const char* pattern;
        const char* name;
        bool match;
        bool bad;
    };
    const Case kCases[] = {
        {"abc", "abc", true, false},
        {"*", "abc", true, false},
        {"*c", "abc", true, false},
        {"a*", "a", true, false},
        {"a*", "abc", true, false},
        {"a*", "ab/c", false, false},
        {"a*/b", "abc/b", true, false},
        {"a*/b", "a/c/b", false, false},
        {"a*b*c*d*e*/f", "axbxcxdxe/f", true, false},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false},
        {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false},
        {"a*b?c*x", "abxbbxdbxebxczzx", true, false},
        {"a*b?c*x", "abxbbxdbxebxczzy", false, false},
        {"ab[c]", "abc", true, false},
        {"ab[b-d]", "abc", true, false},
        {"ab[e-g]", "abc", false, false},
        {"ab[^c]", "abc", false, false},
        {"ab[^b-d]", "abc", false, false},
        {"ab[^e-g]", "abc", true, false},
        {"a\\*b", "a*b", true, false},
        {"a\\*b", "ab", false, false},
        {"a?b", "a\u263Ab", true, false},
        {"a[^a]b", "a\u263Ab", true, false},
        {"a???b", "a\u263Ab", false, false},
        {"a[^a][^a][^a]b", "a\u263Ab", false, false},
        {"[a-\u03B6]*", "\u03B1", true, false},
        {"*[a-\u03B6]", "A", false, false},
        {"a?b", "a/b", false, false},
        {"a*b", "a/b", false, false},
        {"[\\]a]", "]", true, false},
        {"[\\-]", "-", true, false},
        {"[x\\-]", "x", true, false},
        {"[x\\-]", "-", true, false},
        {"[x\\-]", "z", false, false},
        {"[\\-x]", "x", true, false},
        {"[\\-x]", "-", true, false},
        {"[\\-x]", "a", false, false},
        {"[]a]", "]", false, true},
        {"[-]", "-", false, true},
        {"[x-]", "x", false, true},
        {"[x-]", "-", false, true},
        {"[x-]", "z", false, true},
        {"[-x]", "x", false, true},
        {"[-x]", "-", false, true},
        {"[-x]", "a", false, true},
        {"\\", "a", false, true},
        {"[a-b-c]", "a", false, true},
        {"[", "a", false, true},
        {"[^", "a", false, true},
        {"[^bc", "a", false, true},
        {"a[", "a", false, true},
        {"a[", "ab", false, true},
        {"a[", "x", false, true},
        {"a/b[", "x", false, true},
        {"*x", "xxx", true, false},
    };
    for (const auto& c : kCases) {
        CAPTURE(c.pattern);
        CAPTURE(c.name);
        auto m = go_path_match(c.pattern, c.name);
        CHECK(m.ok() == !c.bad);
        if (m.ok()) CHECK(*m == c.match);
        else CHECK(m.error().message == "syntax error in pattern");
    }
}

// ---- docker network ls

namespace {

std::vector<net::Network> sample_networks() {
    auto n = [](std::string name, net::Driver d, bool builtin, std::string id_prefix,
                std::map<std::string, std::string> labels = {}) {
        net::Network x;
        x.name = std::move(name);
        x.driver = d;
        x.builtin = builtin;
        x.id = id_from(std::move(id_prefix));
        x.labels = std::move(labels);
        return x;
    };
    return {n("bridge", net::Driver::Bridge, true, "b0"), n("host", net::Driver::Host, true, "a1"),
            n("none", net::Driver::Null, true, "c2"), n("frontnet", net::Driver::Bridge, false, "d3", {{"env", "dev"}}),
            n("backnet", net::Driver::Bridge, false, "e4", {{"env", "prod"}, {"tier", "db"}})};
}

// frontnet has a container, backnet has none.
const std::vector<bool> kInUse = {true, false, false, true, false};

std::vector<std::string> networks(const std::vector<std::string>& words) {
    auto out = filter_networks(sample_networks(), kInUse, args(words));
    REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().message));
    std::vector<std::string> names;
    for (const auto& n : *out) names.push_back(n.name);
    return names;
}

std::string networks_error(const std::vector<std::string>& words) {
    auto out = filter_networks(sample_networks(), kInUse, args(words));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().exit_code == 1);
    return out.error().message;
}

}  // namespace

TEST_CASE("network ls filters: driver exactly, name and id as regular expressions, labels, scope") {
    CHECK(networks({}) == Names{"bridge", "host", "none", "frontnet", "backnet"});
    CHECK(networks({"driver=bridge"}) == Names{"bridge", "frontnet", "backnet"});
    CHECK(networks({"driver=null", "driver=host"}) == Names{"host", "none"});
    CHECK(networks({"driver=bri"}).empty());
    CHECK(networks({"name=net"}) == Names{"frontnet", "backnet"});
    CHECK(networks({"name=^b"}) == Names{"bridge", "backnet"});
    CHECK(networks({"id=d3"}) == Names{"frontnet"});
    CHECK(networks({"id=" + id_from("e4")}) == Names{"backnet"});
    CHECK(networks({"id=0000"}).size() == 5);  // a regular expression found anywhere in the id
    CHECK(networks({"label=env"}) == Names{"frontnet", "backnet"});
    CHECK(networks({"label=env=prod", "label=tier"}) == Names{"backnet"});
    CHECK(networks({"scope=local"}).size() == 5);
    CHECK(networks({"scope=swarm"}).empty());
    CHECK(networks({"name=net", "label=env=dev"}) == Names{"frontnet"});
}

TEST_CASE("network ls filters: dangling is a custom network without containers; type builtin or custom") {
    CHECK(networks({"dangling=true"}) == Names{"backnet"});
    CHECK(networks({"dangling=1"}) == Names{"backnet"});
    CHECK(networks({"dangling=false"}) == Names{"bridge", "host", "none", "frontnet"});
    CHECK(networks_error({"dangling=yes"}) ==
          "invalid value for filter 'dangling', must be \"true\" (or \"1\"), or \"false\" (or \"0\")");
    CHECK(networks_error({"dangling=true", "dangling=1"}) == "got more than one value for filter key \"dangling\"");
    CHECK(networks({"type=custom"}) == Names{"frontnet", "backnet"});
    CHECK(networks({"type=builtin"}) == Names{"bridge", "host", "none"});
    CHECK(networks({"type=builtin", "type=custom"}).size() == 5);
    CHECK(networks_error({"type=mine"}) == "invalid filter: 'type'='mine'");
    CHECK(networks_error({"colour=red"}) == "invalid filter 'colour'");
}

// ---- list_format

TEST_CASE("list format: Go's time text, go-units sizes, labels") {
    const int64_t t = rfc3339_to_unix_ns("2026-12-07T12:00:00.520851908Z");
    CHECK(go_time_text(t, false) == "2026-12-07 12:00:00 +0000 UTC");
    CHECK(go_time_text(t, true) == "2026-12-07 12:00:00.520851908 +0000 UTC");
    CHECK(go_time_text(rfc3339_to_unix_ns("2026-12-07T12:00:00.5Z"), true) == "2026-12-07 12:00:00.5 +0000 UTC");
    CHECK(go_time_text(rfc3339_to_unix_ns("2026-12-07T12:00:00Z"), true) == "2026-12-07 12:00:00 +0000 UTC");
    CHECK(go_time_text(std::string("not a time"), false).empty());
    CHECK(go_human_size(0, 3) == "0B");
    CHECK(go_human_size(12, 3) == "12B");
    CHECK(go_human_size(999, 3) == "999B");
    CHECK(go_human_size(1000, 3) == "1kB");
    CHECK(go_human_size(4260000, 3) == "4.26MB");
    CHECK(go_human_size(2434000, 4) == "2.434MB");
    CHECK(go_human_size(2434000, 3) == "2.43MB");
    CHECK(go_human_size(1990000000, 3) == "1.99GB");
    CHECK(size_text({0, 4260000}) == "0B (virtual 4.26MB)");
    CHECK(size_text({12, 1990012}) == "12B (virtual 1.99MB)");
    CHECK(size_text({5, 0}) == "5B");
    CHECK(labels_text({{"b", "2"}, {"a", "1"}}) == "a=1,b=2");
    CHECK(labels_text({}).empty());
}

TEST_CASE("list format: a template reads .Size when its value reaches the output") {
    const std::vector<std::string> fields = {"ID", "Names", "Size"};
    const char* ctx = "*formatter.ContainerContext";
    CHECK(format_reads_field("{{.Size}}", fields, "Size", ctx));
    CHECK(format_reads_field("{{json .}}", fields, "Size", ctx));
    CHECK(format_reads_field("table {{.Names}}\t{{.Size}}", fields, "Size", ctx));
    CHECK_FALSE(format_reads_field("json", fields, "Size", ctx));  // literal text as typed
    CHECK_FALSE(format_reads_field("{{.Names}}", fields, "Size", ctx));
    CHECK_FALSE(format_reads_field("{{.Nope", fields, "Size", ctx));
}
