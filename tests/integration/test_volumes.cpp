// `isolab volume ...`, `ps --filter volume=`, `system df`/`system prune --volumes` and a
// Dockerfile's VOLUME through the real binary, each case in its own ISOLAB_ROOT, with Docker 28's
// words (the client's tables and questions, moby's daemon errors).
//
// A container that uses a volume is made with `isolab create -v NAME:/path`; it holds the volume
// from create to rm, in any state, as in Docker.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/core/strings.hpp"

using namespace isolab::test;
using nlohmann::json;

namespace {

std::string chomp(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

}  // namespace

TEST_CASE("volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume") {
    TempRoot r;
    // No longer a command IsoLab leaves out: the group answers with its help.
    auto group = r.isolab({"volume"});
    CHECK(group.code == 0);
    CHECK(group.out.rfind("Usage:  isolab volume COMMAND\n\nManage volumes\n", 0) == 0);

    auto made = r.isolab({"volume", "create", "-d", "local", "--label", "team=a", "data"});
    INFO(made.err);
    REQUIRE(made.code == 0);
    CHECK(made.out == "data\n");
    CHECK(r.isolab({"volume", "create", "data"}).out == "data\n");  // an existing name: success, unchanged
    auto anon = r.isolab({"volume", "create"});
    REQUIRE(anon.code == 0);
    const std::string anon_name = chomp(anon.out);
    CHECK(anon_name.size() == 64);
    auto other = r.isolab({"volume", "create", "-d", "flocker", "x1"});
    CHECK(other.code == 125);
    CHECK(other.err.find("--driver flocker") != std::string::npos);
    auto bad = r.isolab({"volume", "create", "a/b"});
    CHECK(bad.code == 1);
    CHECK(bad.err.rfind("Error response from daemon: create a/b: \"a/b\" includes invalid characters for a local "
                        "volume name",
                        0) == 0);

    // Natural order; the anonymous name is random hex, so its place is computed.
    const std::string first = isolab::natural_less(anon_name, "data") ? anon_name : "data";
    const std::string second = first == "data" ? anon_name : "data";
    CHECK(r.isolab({"volume", "ls"}).out == "DRIVER    VOLUME NAME\nlocal     " + first + "\nlocal     " + second + "\n");
    CHECK(r.isolab({"volume", "ls", "-q", "-f", "label=team=a"}).out == "data\n");
    CHECK(r.isolab({"volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Labels}}", "--filter", "name=^da"}).out ==
          "data local team=a\n");
    auto inspect = r.isolab({"volume", "inspect", "data"});
    REQUIRE(inspect.code == 0);
    json obj = json::parse(inspect.out).at(0);
    CHECK(obj["Name"] == "data");
    CHECK(obj["Driver"] == "local");
    CHECK(obj["Scope"] == "local");
    CHECK(obj["Labels"] == json{{"team", "a"}});
    const std::string mountpoint = chomp(r.isolab({"volume", "inspect", "-f", "{{.Mountpoint}}", "data"}).out);
    CHECK(mountpoint == r.path() + "/volumes/data/_data");
    write_text(mountpoint + "/kept", "hi\n");  // what a container would have written
    // `inspect` finds volumes too, after containers and images; --type volume only them.
    CHECK(r.isolab({"inspect", "-f", "{{.Mountpoint}}", "data"}).out == mountpoint + "\n");
    CHECK(r.isolab({"inspect", "--type", "volume", "-f", "{{.Name}} {{.Scope}}", "data"}).out == "data local\n");
    auto not_volume = r.isolab({"inspect", "--type", "volume", "busybox"});
    CHECK(not_volume.code == 1);
    CHECK(not_volume.err == "Error: No such volume: busybox\n");

    // A container that mounts `data`, stopped (never started): it holds the volume all the same.
    auto create = r.isolab({"create", "--name", "user", "-v", "data:/data", "busybox", "true"});
    INFO(create.err);
    REQUIRE(create.code == 0);
    const std::string id = chomp(create.out);
    CHECK(r.isolab({"ps", "-a", "-q", "--no-trunc", "--filter", "volume=data"}).out == id + "\n");
    CHECK(r.isolab({"ps", "-a", "-q", "--no-trunc", "--filter", "volume=/data"}).out == id + "\n");
    CHECK(r.isolab({"ps", "-a", "-q", "--filter", "volume=" + anon_name}).out.empty());
    CHECK(r.isolab({"volume", "ls", "-q", "-f", "dangling=true"}).out == anon_name + "\n");
    CHECK(r.isolab({"volume", "ls", "-q", "-f", "dangling=false"}).out == "data\n");

    auto refused = r.isolab({"volume", "rm", "data"});
    CHECK(refused.code == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err == "Error response from daemon: remove data: volume is in use - [" + id + "]\n");
    auto forced = r.isolab({"volume", "rm", "-f", "data", "nope"});  // -f ignores only the unknown name
    CHECK(forced.code == 1);
    CHECK(forced.out == "nope\n");
    CHECK(forced.err.find("volume is in use") != std::string::npos);
    CHECK(read_text(mountpoint + "/kept") == "hi\n");

    REQUIRE(r.isolab({"rm", "user"}).code == 0);
    auto rm = r.isolab({"volume", "rm", "data", anon_name, "nope"});
    CHECK(rm.code == 1);
    CHECK(rm.out == "data\n" + anon_name + "\n");
    CHECK(rm.err == "Error response from daemon: get nope: no such volume\n");
    CHECK(r.isolab({"volume", "ls", "-q"}).out.empty());
    CHECK_FALSE(std::filesystem::exists(r.path() + "/volumes/data"));
    auto gone = r.isolab({"volume", "inspect", "data"});
    CHECK(gone.code == 1);
    CHECK(gone.out == "[]\n");
    CHECK(gone.err == "Error response from daemon: get data: no such volume\n");
}

TEST_CASE("volumes: prune keeps named volumes without -a, and what a container uses; system prune --volumes; system df counts them") {
    TempRoot r;
    REQUIRE(r.isolab({"volume", "create", "--label", "keep=1", "named"}).code == 0);
    REQUIRE(r.isolab({"volume", "create", "other"}).code == 0);
    const std::string loose = chomp(r.isolab({"volume", "create"}).out);
    const std::string held = chomp(r.isolab({"volume", "create"}).out);
    REQUIRE(loose.size() == 64);
    REQUIRE(held.size() == 64);
    write_text(r.path() + "/volumes/" + loose + "/_data/big", std::string(20000, 'x'));
    REQUIRE(r.isolab({"create", "--name", "holder", "-v", held + ":/data", "busybox", "true"}).code == 0);

    auto df = r.isolab({"system", "df"});
    const auto df_lines = lines(df.out);
    auto volumes_row = std::find_if(df_lines.begin(), df_lines.end(), [](const std::string& l) { return l.rfind("Local Volumes ", 0) == 0; });
    REQUIRE(volumes_row != df_lines.end());
    CHECK(volumes_row->rfind("Local Volumes   4         1         ", 0) == 0);
    CHECK(volumes_row->find("(100%)") != std::string::npos);  // the held one is empty: all of it is reclaimable

    auto no = r.isolab({"volume", "prune"}, 60000, "n\n");
    CHECK(no.code == 0);
    CHECK(no.out == "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
                    "Are you sure you want to continue? [y/N] ");
    CHECK(lines(r.isolab({"volume", "ls", "-q"}).out).size() == 4);

    auto anon_only = r.isolab({"volume", "prune", "--force"});
    INFO(anon_only.err);
    CHECK(anon_only.code == 0);
    REQUIRE(anon_only.out.rfind("Deleted Volumes:\n" + loose + "\n\nTotal reclaimed space: ", 0) == 0);
    CHECK(anon_only.out.find("Total reclaimed space: 0B") == std::string::npos);
    CHECK(r.isolab({"volume", "ls", "-q"}).out == held + "\nnamed\nother\n");

    // -a reaches named volumes; --filter label! keeps the labelled one; the held one stays.
    auto all = r.isolab({"volume", "prune", "-a", "-f", "--filter", "label!=keep"});
    CHECK(all.out == "Deleted Volumes:\nother\n\nTotal reclaimed space: 0B\n");
    CHECK(r.isolab({"volume", "ls", "-q"}).out == held + "\nnamed\n");

    // system prune --volumes: anonymous and unused only, never named ones, even with -a.
    const std::string third = chomp(r.isolab({"volume", "create"}).out);
    REQUIRE(r.isolab({"rm", "holder"}).code == 0);
    auto sys = r.isolab({"system", "prune", "-a", "-f", "--volumes"});
    INFO(sys.err);
    CHECK(sys.code == 0);
    CHECK(sys.out.find("Deleted Volumes:\n") != std::string::npos);
    CHECK(sys.out.find(held) != std::string::npos);
    CHECK(sys.out.find(third) != std::string::npos);
    CHECK(r.isolab({"volume", "ls", "-q"}).out == "named\n");
    auto until = r.isolab({"system", "prune", "-f", "--volumes", "--filter", "until=1h"});
    CHECK(until.code == 1);
    CHECK(until.err == "ERROR: The \"until\" filter is not supported with \"--volumes\"\n");

    // Each removal is a Docker `volume destroy` event; each prune one `volume prune`.
    auto events = r.isolab({"events", "--since", "10m", "--until", "0s", "--filter", "type=volume", "--format",
                            "{{.Action}} {{.Actor.ID}}"});
    CHECK(events.code == 0);
    const auto ev = lines(events.out);
    CHECK(std::count(ev.begin(), ev.end(), "create named") == 1);
    CHECK(std::count(ev.begin(), ev.end(), "destroy " + loose) == 1);
    CHECK(std::count(ev.begin(), ev.end(), "destroy other") == 1);
    CHECK(std::count_if(ev.begin(), ev.end(), [](const std::string& l) { return l.rfind("prune", 0) == 0; }) == 3);
}

TEST_CASE("volumes: a Dockerfile's VOLUME is in the image's Config.Volumes through inspect, history, save/load and commit") {
    TempRoot r;
    write_text(r.path() + "/ctx/Dockerfile",
               "FROM busybox\n"
               "ENV D=/data\n"
               "VOLUME [\"$D\"]\n"
               "VOLUME /logs /cache\n");
    auto build = r.isolab({"build", "-t", "vol:1", r.path() + "/ctx"});
    INFO(build.out << build.err);
    REQUIRE(build.code == 0);
    CHECK(build.out.find("Step 3/4 : VOLUME [\"$D\"]\n") != std::string::npos);
    const std::string want = "{\"/cache\":{},\"/data\":{},\"/logs\":{}}\n";
    CHECK(r.isolab({"image", "inspect", "-f", "{{json .Config.Volumes}}", "vol:1"}).out == want);
    auto history = r.isolab({"history", "--no-trunc", "--format", "{{.CreatedBy}}", "vol:1"});
    CHECK(lines(history.out).at(0) == "VOLUME /logs /cache");
    CHECK(lines(history.out).at(1) == "VOLUME [\"$D\"]");

    const std::string tar = r.path() + "/vol.tar";
    REQUIRE(r.isolab({"save", "-o", tar, "vol:1"}).code == 0);
    REQUIRE(r.isolab({"rmi", "vol:1"}).code == 0);
    REQUIRE(r.isolab({"load", "-i", tar}).code == 0);
    CHECK(r.isolab({"image", "inspect", "-f", "{{json .Config.Volumes}}", "vol:1"}).out == want);

    // commit keeps the image's volumes and --change adds one, as Docker's commit does.
    REQUIRE(r.isolab({"create", "--name", "maker", "vol:1", "true"}).code == 0);
    auto commit = r.isolab({"commit", "-c", "VOLUME /extra", "maker", "vol:2"});
    INFO(commit.err);
    REQUIRE(commit.code == 0);
    CHECK(r.isolab({"image", "inspect", "-f", "{{json .Config.Volumes}}", "vol:2"}).out ==
          "{\"/cache\":{},\"/data\":{},\"/extra\":{},\"/logs\":{}}\n");

    write_text(r.path() + "/bad/Dockerfile", "FROM busybox\nVOLUME [\"\"]\n");
    auto empty = r.isolab({"build", r.path() + "/bad"});
    CHECK(empty.code == 1);
    CHECK(empty.err.find("Dockerfile:2: VOLUME specified can not be an empty string") != std::string::npos);
}
