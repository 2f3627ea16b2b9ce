// `isolab volume ...` (app/cli/volume_commands.hpp), `ps --filter volume=`, and the volume parts of
// `system df` and `system prune --volumes`: the parser's words, the filters, and what each
// command prints, run in-process on a simulated engine (no kernel features needed). Records that
// mount a volume are written through Store::save, as the engine's `run -v` will write them.
//
// The expected words are Docker 28's: the client's tables and questions (measured with the 28.2
// client), the daemon's errors (moby volume/service, daemon/list.go).
#include <doctest/doctest.h>

#include "sim/core/strings.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli/args.hpp"
#include "app/cli/commands.hpp"
#include "app/cli/everyday_commands.hpp"
#include "app/cli/filters.hpp"
#include "app/cli/prune_commands.hpp"
#include "app/cli/volume_commands.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/volume_actions.hpp"
#include "tests/sim/sim_engine.hpp"

using namespace isolab;
using namespace isolab::cli;
using nlohmann::json;

namespace {

// The simulated engine with the CLI in front of it.
struct SimEngine : test::SimEngine {

    struct Out {
        int code;
        std::string out, err;
    };
    // Parses WORDS as the CLI does and runs them here; IN is the prompt's answer.
    Out run(const std::vector<std::string>& words, const std::string& in = "") {
        auto c = parse_args(words);
        REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
        std::istringstream input(in);
        std::ostringstream out, err;
        int code = is_volume_verb(c->verb) ? run_volume_command(*engine, *c, input, out, err)
                   : is_prune_verb(c->verb)  ? run_prune_command(*engine, *c, input, out, err)
                                             : run_engine_command(*engine, *c, out, err);
        return {code, out.str(), err.str()};
    }

    // A simulated container whose record mounts the volume NAME at TARGET (what `run -v` makes).
    std::string container_using(const std::string& container, const std::string& name, const std::string& target) {
        ContainerSpec s;
        s.name = container;
        s.image = "busybox";
        s.cmd = {"true"};
        auto rec = engine->create(s);
        REQUIRE(rec.ok());
        MountSpec m;
        m.type = MountType::Volume;
        m.source = name;
        m.target = target;
        rec->spec.mounts.push_back(m);
        REQUIRE(engine->store().save(*rec).ok());
        return rec->id;
    }
};

Error parse_error(const std::vector<std::string>& words) {
    auto c = parse_args(words);
    REQUIRE_FALSE(c.ok());
    return c.error();
}

Volume vol(const std::string& name, bool anonymous = false, std::map<std::string, std::string> labels = {}) {
    Volume v;
    v.name = name;
    v.anonymous = anonymous;
    v.labels = std::move(labels);
    return v;
}

// The line of TEXT that starts with PREFIX ("" when none).
std::string row_starting(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0) return line;
    return "";
}

// A table row's cells: split where two or more spaces separate them.
std::vector<std::string> cells(const std::string& row) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < row.size()) {
        size_t end = row.find("  ", i);
        out.push_back(row.substr(i, end == std::string::npos ? std::string::npos : end - i));
        if (end == std::string::npos) break;
        i = row.find_first_not_of(' ', end);
    }
    return out;
}

std::vector<std::string> names(const std::vector<Volume>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(v.name);
    return out;
}

}  // namespace

TEST_CASE("volume parse: the group's words, aliases and create's flags as Docker's client reads them") {
    auto create = parse_args({"volume", "create", "--label", "team=a", "--label", "solo", "-d", "local", "data"});
    REQUIRE(create.ok());
    CHECK(create->verb == "volume create");
    CHECK(create->command_path == "volume create");
    CHECK(create->args == std::vector<std::string>{"data"});
    CHECK(create->volume_driver == "local");
    CHECK(create->volume_labels == std::map<std::string, std::string>{{"solo", ""}, {"team", "a"}});
    // No name: an anonymous volume; the hidden --name of older Docker books is the positional.
    CHECK(parse_args({"volume", "create"})->args.empty());
    CHECK(parse_args({"volume", "create", "--name", "old"})->args == std::vector<std::string>{"old"});
    auto both = parse_error({"volume", "create", "--name", "a", "b"});
    CHECK(both.exit_code == 1);
    CHECK(both.message == "conflicting options: cannot specify a volume-name through both --name and as a positional arg");
    CHECK(parse_error({"volume", "create", "a", "b"}).message.find("'isolab volume create' requires at most 1 argument") !=
          std::string::npos);
    CHECK(parse_error({"volume", "create", "--label", "=x", "v1"}).message.find("invalid label '=x': empty name") !=
          std::string::npos);

    for (auto [words, verb] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"volume", "ls"}, "volume ls"},         {{"volume", "list"}, "volume ls"},
             {{"volume", "rm", "x"}, "volume rm"},    {{"volume", "remove", "x"}, "volume rm"},
             {{"volume", "inspect", "x"}, "volume inspect"}, {{"volume", "prune", "-af"}, "volume prune"}}) {
        auto c = parse_args(words);
        REQUIRE(c.ok());
        CHECK(c->verb == verb);
    }
    auto alone = parse_args({"volume"});
    REQUIRE(alone.ok());
    CHECK(alone->help);
    CHECK(usage("volume").find("  prune       Remove unused local volumes\n") != std::string::npos);
    CHECK(usage("volume rm").find("\n\nRemove one or more volumes. You cannot remove a volume that is in use by a "
                                  "container.\n\nAliases:\n  isolab volume rm, isolab volume remove\n") !=
          std::string::npos);
    CHECK(parse_error({"volume", "nosuch"}).exit_code == 1);
    // The words print back and parse into the same command.
    for (const auto& line : {"volume create --label b=2 --label a= -d local v1", "volume ls -f dangling=true -q",
                             "volume ls --format json", "volume inspect -f '{{.Name}}' a b", "volume rm -f a",
                             "volume prune -a --filter label=x -f", "volume create --name old"}) {
        INFO(line);
        auto c = parse_line(line);
        REQUIRE(c.ok());
        auto again = parse_action(to_argv(*c));
        REQUIRE(again.ok());
        CHECK(*again == *c);
    }
}

TEST_CASE("volume parse: a driver other than local and -o are refused with what to use instead, exit 125") {
    auto driver = parse_error({"volume", "create", "-d", "flocker", "x"});
    CHECK(driver.exit_code == 125);
    CHECK(driver.message.rfind("isolab: --driver flocker: ", 0) == 0);
    CHECK(driver.message.find("local") != std::string::npos);
    CHECK(driver.message.find("\n\nRun 'isolab volume create --help' for more information") != std::string::npos);
    auto opt = parse_error({"volume", "create", "--opt", "type=tmpfs", "-d", "local", "x"});
    CHECK(opt.exit_code == 125);
    CHECK(opt.message.rfind("isolab: --opt type=tmpfs: ", 0) == 0);
    CHECK(opt.message.find("--tmpfs") != std::string::npos);  // what to use instead
    CHECK(usage("volume create").find("  -o, --opt map         Set driver specific options (default map[])\n") !=
          std::string::npos);
}

TEST_CASE("volume ls filters: dangling, name (a regular expression), label and driver, with the daemon's errors") {
    const std::vector<Volume> all = {vol("web10"), vol("web2", false, {{"tier", "front"}}), vol("db", false, {{"tier", "back"}}),
                                     vol("3f0a", true)};
    const std::vector<bool> used = {true, false, false, false};
    auto ls = [&](const std::vector<std::string>& words) {
        auto r = filter_volumes(all, used, words);
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        return names(*r);
    };
    using Names = std::vector<std::string>;
    CHECK(ls({}) == Names{"3f0a", "db", "web2", "web10"});  // natural order: web2 before web10
    CHECK(ls({"dangling=true"}) == Names{"3f0a", "db", "web2"});
    CHECK(ls({"dangling=0"}) == Names{"web10"});
    CHECK(ls({"name=web"}) == Names{"web2", "web10"});
    CHECK(ls({"name=^web2$"}) == Names{"web2"});
    CHECK(ls({"label=tier"}) == Names{"db", "web2"});
    CHECK(ls({"label=tier=back"}) == Names{"db"});
    CHECK(ls({"label=com.docker.volume.anonymous"}) == Names{"3f0a"});
    CHECK(ls({"driver=local", "name=db"}) == Names{"db"});
    CHECK(ls({"driver=nfs"}).empty());
    auto bad = filter_volumes(all, used, {"dangling=maybe"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "invalid filter 'dangling=[maybe]'");
    CHECK(bad.error().exit_code == 1);
    auto unknown = filter_volumes(all, used, {"label!=x"});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "invalid filter 'label!'");
}

TEST_CASE("volume prune filters: label and label!, the all filter, and the daemon's errors") {
    bool all = false;
    auto f = volume_prune_filter({"label=keep!=x", "label!=keep"}, &all);
    REQUIRE(f.ok());
    CHECK_FALSE(all);
    auto only_label = volume_prune_filter({"label=tier=back"}, &all);
    REQUIRE(only_label.ok());
    CHECK((*only_label)(vol("db", false, {{"tier", "back"}})));
    CHECK_FALSE((*only_label)(vol("web", false, {{"tier", "front"}})));
    auto not_kept = volume_prune_filter({"label!=keep"}, &all);
    REQUIRE(not_kept.ok());
    CHECK((*not_kept)(vol("a")));
    CHECK_FALSE((*not_kept)(vol("b", false, {{"keep", "1"}})));
    REQUIRE(volume_prune_filter({"all=true"}, &all).ok());
    CHECK(all);
    all = false;
    REQUIRE(volume_prune_filter({"all=0"}, &all).ok());
    CHECK_FALSE(all);
    auto bad_all = volume_prune_filter({"all=maybe"}, &all);
    REQUIRE_FALSE(bad_all.ok());
    CHECK(bad_all.error().message == "invalid filter 'all': strconv.ParseBool: parsing \"maybe\": invalid syntax");
    auto two = volume_prune_filter({"all=1", "all=0"}, &all);
    REQUIRE_FALSE(two.ok());
    CHECK(two.error().message == "invalid filter 'all=[1 0]': only one value is expected");
    auto until = volume_prune_filter({"until=1h"}, &all);
    REQUIRE_FALSE(until.ok());
    CHECK(until.error().message == "invalid filter 'until'");
}

TEST_CASE("ps filters: volume matches a mount's volume name, bind source or destination (moby's list.go)") {
    auto rec = [](const std::string& name, std::vector<MountSpec> mounts) {
        ContainerRecord r;
        r.id = random_hex(32);
        r.name = name;
        r.state = ContainerState::Running;
        r.spec.mounts = std::move(mounts);
        return r;
    };
    auto mount = [](MountType t, MountOrigin o, std::string source, std::string target) {
        MountSpec m;
        m.type = t;
        m.origin = o;
        m.source = std::move(source);
        m.target = std::move(target);
        return m;
    };
    const std::vector<ContainerRecord> recs = {
        rec("web", {mount(MountType::Volume, MountOrigin::VolumeFlag, "data", "/data")}),
        rec("site", {mount(MountType::Bind, MountOrigin::VolumeFlag, "/srv/site", "/www")}),
        rec("scratch", {mount(MountType::Tmpfs, MountOrigin::TmpfsFlag, "", "/tmp"),
                        mount(MountType::Tmpfs, MountOrigin::MountFlag, "", "/run")}),
        rec("plain", {}),
    };
    auto ps = [&](const std::vector<std::string>& words) {
        auto f = FilterArgs::parse(words);
        REQUIRE(f.ok());
        auto r = filter_containers(recs, *f, PsQuery{}, {});
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        std::vector<std::string> out;
        for (const auto& c : *r) out.push_back(c.name);
        return out;
    };
    using Names = std::vector<std::string>;
    CHECK(ps({"volume=data"}) == Names{"web"});
    CHECK(ps({"volume=/data"}) == Names{"web"});
    CHECK(ps({"volume=/srv/site"}) == Names{"site"});
    CHECK(ps({"volume=/www"}) == Names{"site"});
    CHECK(ps({"volume=/run"}) == Names{"scratch"});  // --mount type=tmpfs is a mount point
    CHECK(ps({"volume=/tmp"}).empty());              // --tmpfs is not (HostConfig.Tmpfs)
    CHECK(ps({"volume=data", "volume=/www"}) == Names{"web", "site"});  // values OR'ed
    CHECK(ps({"volume=dat"}).empty());                                 // exact, not a prefix
    CHECK(ps({"volume=data", "name=site"}).empty());                   // keys AND'ed
}

TEST_CASE("volume commands: create, ls, inspect as Docker 28 prints them") {
    SimEngine e;
    auto created = e.run({"volume", "create", "--label", "tier=back", "db"});
    CHECK(created.code == 0);
    CHECK(created.out == "db\n");
    auto anon = e.run({"volume", "create"});
    REQUIRE(anon.code == 0);
    const std::string anon_name = anon.out.substr(0, anon.out.size() - 1);
    CHECK(anon_name.size() == 64);
    CHECK(e.run({"volume", "create", "web10"}).code == 0);
    CHECK(e.run({"volume", "create", "web2"}).code == 0);

    // Natural order (web2 before web10); the anonymous name is random hex, so where it falls is
    // computed, not assumed.
    std::vector<std::string> names = {anon_name, "db", "web2", "web10"};
    std::sort(names.begin(), names.end(), isolab::natural_less);
    std::string listed = "DRIVER    VOLUME NAME\n";
    for (const auto& n : names) listed += "local     " + n + "\n";
    CHECK(e.run({"volume", "ls"}).out == listed);
    CHECK(std::find(names.begin(), names.end(), "web2") < std::find(names.begin(), names.end(), "web10"));
    CHECK(e.run({"volume", "ls", "-q", "-f", "name=web"}).out == "web2\nweb10\n");
    CHECK(e.run({"volume", "ls", "-q", "--format", "{{.Name}}:{{.Labels}}", "-f", "label=tier"}).out == "db:tier=back\n");
    auto as_json = e.run({"volume", "ls", "--format", "json", "-f", "name=^db$"});
    CHECK(as_json.out == "{\"Availability\":\"N/A\",\"Driver\":\"local\",\"Group\":\"N/A\",\"Labels\":\"tier=back\","
                         "\"Links\":\"N/A\",\"Mountpoint\":\"" + e.root + "/volumes/db/_data\",\"Name\":\"db\","
                         "\"Scope\":\"local\",\"Size\":\"N/A\",\"Status\":\"N/A\"}\n");
    CHECK(e.run({"volume", "ls", "--format", "table {{.Name}}\t{{.Scope}}", "-f", "name=^db$"}).out ==
          "VOLUME NAME   SCOPE\ndb            local\n");
    auto bad_template = e.run({"volume", "ls", "--format", "{{.Nope}}"});
    CHECK(bad_template.code != 0);
    CHECK(bad_template.err.find("*formatter.volumeContext") != std::string::npos);
    auto bad_filter = e.run({"volume", "ls", "-f", "colour=red"});
    CHECK(bad_filter.code == 1);
    CHECK(bad_filter.err == "Error response from daemon: invalid filter 'colour'\n");

    auto inspect = e.run({"volume", "inspect", "db"});
    CHECK(inspect.code == 0);
    json arr = json::parse(inspect.out);
    REQUIRE(arr.size() == 1);
    CHECK(arr[0]["Labels"] == json{{"tier", "back"}});
    CHECK(arr[0]["Mountpoint"] == e.root + "/volumes/db/_data");
    CHECK(inspect.out.find("\n    {\n        \"CreatedAt\": ") != std::string::npos);  // Docker's 4-space indent
    auto missing = e.run({"volume", "inspect", "nope", "db"});
    CHECK(missing.code == 1);
    CHECK(json::parse(missing.out).size() == 1);
    CHECK(missing.err == "Error response from daemon: get nope: no such volume\n");
    auto none = e.run({"volume", "inspect", "nope"});
    CHECK(none.out == "[]\n");
    CHECK(e.run({"volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "db", anon_name}).out ==
          "db local local\n" + anon_name + " local local\n");
    // The generic inspect finds a volume after containers and images.
    CHECK(e.run({"inspect", "-f", "{{.Name}} {{.Labels.tier}}", "db"}).out == "db back\n");
    auto typed = e.run({"inspect", "--type", "volume", "busybox"});
    CHECK(typed.code == 1);
    CHECK(typed.out == "[]\n");
    CHECK(typed.err == "Error: No such volume: busybox\n");
}

TEST_CASE("volume commands: rm prints what it removed, then the errors; a volume in use stays") {
    SimEngine e;
    for (const char* n : {"a1", "b1", "c1"}) REQUIRE(e.run({"volume", "create", n}).code == 0);
    const std::string id = e.container_using("user", "b1", "/data");
    auto rm = e.run({"volume", "rm", "a1", "b1", "nope", "c1"});
    CHECK(rm.code == 1);
    CHECK(rm.out == "a1\nc1\n");
    CHECK(rm.err == "Error response from daemon: remove b1: volume is in use - [" + id + "]\n"
                    "Error response from daemon: get nope: no such volume\n");
    CHECK(e.run({"volume", "ls", "-q"}).out == "b1\n");
    auto forced = e.run({"volume", "rm", "-f", "nope"});
    CHECK(forced.code == 0);
    CHECK(forced.out == "nope\n");  // Docker's client prints the name it was given
    // `ps --filter volume=` finds the user by the volume and by the destination.
    CHECK(e.run({"ps", "-a", "-q", "--no-trunc", "-f", "volume=b1"}).out == id + "\n");
    CHECK(e.run({"ps", "-a", "-q", "--no-trunc", "-f", "volume=/data"}).out == id + "\n");
    CHECK(e.run({"ps", "-a", "-q", "-f", "volume=a1"}).out.empty());
    CHECK(e.run({"ps", "-a", "--format", "{{.LocalVolumes}} {{.Mounts}}"}).out == "1 b1\n");
    // Once the container is gone, so may the volume be.
    CHECK(e.run({"rm", "user"}).code == 0);
    CHECK(e.run({"volume", "rm", "b1"}).out == "b1\n");
}

TEST_CASE("volume commands: prune asks Docker's question, removes unused anonymous volumes, named ones with -a") {
    SimEngine e;
    REQUIRE(e.run({"volume", "create", "named"}).code == 0);
    const std::string anon = e.run({"volume", "create"}).out.substr(0, 64);
    const std::string busy = e.run({"volume", "create"}).out.substr(0, 64);
    e.container_using("user", busy, "/data");
    REQUIRE(write_file_atomic(e.root + "/volumes/" + anon + "/_data/f", std::string(5000, 'x'), 0644).ok());

    auto no = e.run({"volume", "prune"}, "n\n");
    CHECK(no.code == 0);
    CHECK(no.out == "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
                    "Are you sure you want to continue? [y/N] ");
    CHECK(e.run({"volume", "ls", "-q"}).out.find(anon) != std::string::npos);

    auto yes = e.run({"volume", "prune"}, "y\n");
    CHECK(yes.code == 0);
    const std::string question = "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
                                 "Are you sure you want to continue? [y/N] ";
    REQUIRE(yes.out.rfind(question, 0) == 0);
    const std::string rest = yes.out.substr(question.size());
    CHECK(rest.rfind("Deleted Volumes:\n" + anon + "\n\nTotal reclaimed space: ", 0) == 0);
    CHECK(rest.find("Total reclaimed space: 0B") == std::string::npos);  // 5000 bytes were in it
    std::string left = e.run({"volume", "ls", "-q"}).out;
    CHECK(left.find(anon) == std::string::npos);
    CHECK(left.find(busy) != std::string::npos);
    CHECK(left.find("named") != std::string::npos);

    auto none = e.run({"volume", "prune", "-f"});
    CHECK(none.out == "Total reclaimed space: 0B\n");
    auto conflict = e.run({"volume", "prune", "-a", "--filter", "all=1", "-f"});
    CHECK(conflict.code == 1);
    CHECK(conflict.err == "conflicting options: cannot specify both --all and --filter all=1\n");
    auto ask_all = e.run({"volume", "prune", "-a"}, "");
    CHECK(ask_all.out == "WARNING! This will remove all local volumes not used by at least one container.\n"
                         "Are you sure you want to continue? [y/N] ");
    CHECK(e.run({"volume", "prune", "-a", "-f", "--filter", "label!=x"}).out ==
          "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n");
    CHECK(e.run({"volume", "ls", "-q"}).out == busy + "\n");
}

TEST_CASE("volume commands: system df counts volumes, system prune --volumes removes unused anonymous ones only") {
    SimEngine e;
    REQUIRE(e.run({"volume", "create", "named"}).code == 0);
    const std::string anon = e.run({"volume", "create"}).out.substr(0, 64);
    const std::string busy = e.run({"volume", "create"}).out.substr(0, 64);
    const std::string user_id = e.container_using("user", busy, "/data");
    REQUIRE(write_file_atomic(e.root + "/volumes/" + busy + "/_data/f", std::string(8192, 'x'), 0644).ok());
    const int64_t busy_size = VolumeStore(e.root).size_bytes(busy);
    REQUIRE(busy_size >= 8192);

    auto df = e.run({"system", "df"});
    const std::string size = go_human_size(static_cast<double>(busy_size));
    // TOTAL 3, ACTIVE 1 (the one a container mounts), all the bytes in it, none reclaimable.
    CHECK(cells(row_starting(df.out, "Local Volumes ")) ==
          std::vector<std::string>{"Local Volumes", "3", "1", size, "0B (0%)"});
    auto dfv = e.run({"system", "df", "-v"});
    CHECK(dfv.out.find("\nLocal Volumes space usage:\n\nVOLUME NAME") != std::string::npos);
    CHECK(cells(row_starting(dfv.out, busy)) == std::vector<std::string>{busy, "1", size});
    CHECK(cells(row_starting(dfv.out, anon)) == std::vector<std::string>{anon, "0", "0B"});
    CHECK(cells(row_starting(dfv.out, "named ")) == std::vector<std::string>{"named", "0", "0B"});
    // The user's LOCAL VOLUMES column (CONTAINER ID, IMAGE, COMMAND, LOCAL VOLUMES, ...).
    auto user = cells(row_starting(dfv.out, user_id.substr(0, 12)));
    REQUIRE(user.size() == 8);
    CHECK(user[3] == "1");

    auto until = e.run({"system", "prune", "--volumes", "--filter", "until=1h", "-f"});
    CHECK(until.code == 1);
    CHECK(until.err == "ERROR: The \"until\" filter is not supported with \"--volumes\"\n");
    // Containers go first (the created `user` is stopped), so the volume it held is unused by the
    // time volumes are pruned, as in Docker; named volumes stay even with -a (Docker 23+).
    auto prune = e.run({"system", "prune", "-a", "-f", "--volumes"});
    CHECK(prune.code == 0);
    std::vector<std::string> deleted = {anon, busy};
    std::sort(deleted.begin(), deleted.end());
    CHECK(prune.out.find("Deleted Containers:\n" + user_id + "\n\n") != std::string::npos);
    CHECK(prune.out.find("Deleted Volumes:\n" + deleted[0] + "\n" + deleted[1] + "\n\n") != std::string::npos);
    CHECK(e.run({"volume", "ls", "-q"}).out == "named\n");
    // Without --volumes nothing of them is touched.
    const std::string anon2 = e.run({"volume", "create"}).out.substr(0, 64);
    CHECK(e.run({"system", "prune", "-f"}).out.find("Deleted Volumes") == std::string::npos);
    CHECK(e.run({"volume", "ls", "-q"}).out.find(anon2) != std::string::npos);
}

TEST_CASE("volume events: create, destroy and prune print as Docker's `volume` events") {
    std::map<std::string, std::string> images;
    auto ev = docker_event_from(json{{"type", "volume_create"}, {"name", "data"}, {"driver", "local"},
                                     {"time", "2026-12-07T12:00:00.5Z"}},
                                images);
    CHECK(event_line(ev) == "2026-12-07T12:00:00.500000000Z volume create data (driver=local)");
    auto gone = docker_event_from(json{{"type", "volume_destroy"}, {"name", "data"}, {"driver", "local"},
                                       {"time", "2026-12-07T12:00:01Z"}},
                                  images);
    CHECK(gone.type == "volume");
    CHECK(gone.action == "destroy");
    auto prune = docker_event_from(json{{"type", "volume_prune"}, {"reclaimed", 4096}, {"time", "2026-12-07T12:00:02Z"}},
                                   images);
    CHECK(event_line(prune) == "2026-12-07T12:00:02.000000000Z volume prune  (reclaimed=4096)");
    auto f = EventFilter::parse({"volume=data"});
    REQUIRE(f.ok());
    CHECK(f->matches(ev));
    CHECK_FALSE(f->matches(prune));
    auto by_type = EventFilter::parse({"type=volume"});
    REQUIRE(by_type.ok());
    CHECK(by_type->matches(prune));
}
