// `--filter` and `--format json` of ps, images and network ls through the real `isolab` binary
// (issue 14): the Docker-book idiom `rm -f $(ps -aq -f status=exited)` removes only exited
// containers, a filter that matches nothing prints nothing. The rules themselves are unit-tested
// in tests/app/test_filters.cpp.
#include <doctest/doctest.h>

#include <unistd.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"
#include "tests/skip.hpp"

using namespace isolab::test;
using nlohmann::json;

namespace {

bool can_run_real() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the real-runtime integration tests need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("this test runs inside a chroot, where the container runtime needs a real root");
        return false;
    }
    return true;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

std::set<std::string> keys_of(const json& j) {
    std::set<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.insert(k);
    return keys;
}

}  // namespace

TEST_CASE("ps filters: `rm -f $(ps -aq -f status=exited)` removes only the exited container") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"create", "--name", "made", "busybox", "true"}).code == 0);
    REQUIRE(r.isolab({"run", "--name", "ended", "busybox", "sh", "-c", "exit 3"}).code == 3);
    REQUIRE(r.isolab({"run", "-d", "--name", "up", "busybox", "sleep", "300"}).code == 0);
    const std::string ended = r.id_of("ended");
    REQUIRE(ended.size() == 64);

    auto exited = r.isolab({"ps", "-aq", "-f", "status=exited"});
    CHECK(exited.code == 0);
    CHECK(exited.out == ended.substr(0, 12) + "\n");

    // Nothing matches: nothing is printed, so `rm -f $(...)` gets no argument at all.
    for (auto args : {std::vector<std::string>{"ps", "-q", "-f", "name=zzz-nomatch"},
                      std::vector<std::string>{"ps", "-aq", "--filter", "name=zzz-nomatch"}}) {
        auto none = r.isolab(args);
        CHECK(none.code == 0);
        CHECK(none.out.empty());
        CHECK(none.err.empty());
    }

    // The idiom as a shell runs it.
    auto idiom = run_process({"/bin/sh", "-c", "\"$ISOLAB\" rm -f $(\"$ISOLAB\" ps -aq -f status=exited)"},
                             {"ISOLAB=" + r.bin, "ISOLAB_ROOT=" + r.path(), "ISOLAB_LANG=en"});
    INFO(idiom.err);
    CHECK(idiom.code == 0);
    CHECK(idiom.out == ended.substr(0, 12) + "\n");
    auto left = r.isolab({"ps", "-a", "--format", "{{.Names}} {{.State}}"});
    CHECK(left.out == "up running\nmade created\n");

    // Docker's refusals: an unknown status is the daemon's (exit 1), a word without '=' the
    // client's (exit 125); nothing is listed.
    auto bad = r.isolab({"ps", "-a", "-f", "status=foo"});
    CHECK(bad.code == 1);
    CHECK(bad.out.empty());
    CHECK(bad.err == "Error response from daemon: invalid filter 'status=foo'\n");
    auto word = r.isolab({"ps", "-f", "exited"});
    CHECK(word.code == 125);
    CHECK(word.err.rfind("invalid argument \"exited\" for \"-f, --filter\" flag: bad format of filter "
                         "(expected name=value)\n\nUsage:  isolab ps [OPTIONS]", 0) == 0);
    // `volume` is served (tests/integration/test_volumes.cpp): nothing here mounts /data.
    auto volume = r.isolab({"ps", "-a", "-q", "-f", "volume=/data"});
    CHECK(volume.code == 0);
    CHECK(volume.out.empty());
}

TEST_CASE("ps: --format json, -s, -n and -l as Docker's") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"create", "--name", "first", "--label", "b=2", "--label", "a=1", "busybox", "true"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "second", "busybox", "sh", "-c", "echo hello > /data; sleep 300"}).code == 0);
    REQUIRE(poll_until(std::chrono::seconds(10), [&] {
        return r.isolab({"exec", "second", "cat", "/data"}).out == "hello\n";
    }));

    auto js = r.isolab({"ps", "-a", "--format", "json"});
    CHECK(js.code == 0);
    auto rows = lines(js.out);
    REQUIRE(rows.size() == 2);
    // The fields of Docker 28.2's client, measured with `docker ps -a --format json`.
    const std::set<std::string> kFields = {"Command", "CreatedAt",  "ID",       "Image",    "Labels",
                                           "LocalVolumes", "Mounts", "Names",  "Networks", "Platform",
                                           "Ports",    "RunningFor", "Size",     "State",    "Status"};
    auto second = json::parse(rows[0], nullptr, false);
    auto first = json::parse(rows[1], nullptr, false);
    REQUIRE(first.is_object());
    REQUIRE(second.is_object());
    CHECK(keys_of(first) == kFields);
    CHECK(first.value("Names", "") == "first");
    CHECK(first.value("Labels", "") == "a=1,b=2");
    CHECK(first.value("State", "") == "created");
    CHECK(first.value("Command", "") == "\"true\"");
    CHECK(first.value("Networks", "") == "bridge");
    CHECK(first.value("LocalVolumes", "") == "0");
    CHECK(first["Platform"].is_null());
    // Go's time.Time text: "2026-12-07 12:00:00 +0000 UTC".
    const std::string created = first.value("CreatedAt", "");
    CHECK(created.size() == 29);
    CHECK(created.substr(19) == " +0000 UTC");
    // `--format json` does not read .Size, so Docker asks for no sizes: "0B".
    CHECK(second.value("Size", "") == "0B");
    CHECK(second.value("State", "") == "running");

    // `{{json .}}` reads .Size: the daemon measures the writable layer (6 bytes of /data, at
    // least) and the image under it.
    auto sized = lines(r.isolab({"ps", "--format", "{{json .}}"}).out);
    REQUIRE(sized.size() == 1);
    auto s = json::parse(sized[0], nullptr, false);
    REQUIRE(s.is_object());
    const std::string size = s.value("Size", "");
    INFO(size);
    CHECK(size.find(" (virtual ") != std::string::npos);
    CHECK(size.rfind("0B", 0) != 0);

    auto table = r.isolab({"ps", "-s"});
    INFO(table.out);
    const std::string header = lines(table.out).at(0);
    CHECK(header.find("NAMES") != std::string::npos);
    CHECK(header.substr(header.size() - 4) == "SIZE");
    CHECK(table.out.find("(virtual ") != std::string::npos);

    CHECK(r.isolab({"ps", "-n", "1", "--format", "{{.Names}}"}).out == "second\n");
    CHECK(r.isolab({"ps", "-n", "5", "--format", "{{.Names}}"}).out == "second\nfirst\n");
    CHECK(r.isolab({"ps", "-l", "-q"}).out == r.id_of("second").substr(0, 12) + "\n");
    CHECK(r.isolab({"ps", "-a", "-f", "before=second", "--format", "{{.Names}}"}).out == "first\n");
    CHECK(r.isolab({"ps", "-a", "-f", "label=a=1", "-f", "label=b", "--format", "{{.Names}}"}).out == "first\n");
    CHECK(r.isolab({"ps", "-a", "-f", "ancestor=busybox", "-f", "status=running", "--format", "{{.Names}}"}).out ==
          "second\n");
}

TEST_CASE("images and network ls: --filter, REPOSITORY[:TAG] and --format json") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "src", "busybox", "sleep", "300"}).code == 0);
    // Committing twice under one tag leaves the first image without a name: dangling.
    auto old_id = r.isolab({"commit", "src", "snap:v1"});
    REQUIRE(old_id.code == 0);
    REQUIRE(r.isolab({"exec", "src", "touch", "/new"}).code == 0);
    REQUIRE(r.isolab({"commit", "src", "snap:v1"}).code == 0);
    auto dangling = r.isolab({"images", "-q", "--filter", "dangling=true"});
    CHECK(dangling.code == 0);
    CHECK(dangling.out == old_id.out.substr(7, 12) + "\n");
    auto named = r.isolab({"images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "dangling=false"});
    CHECK(named.out == "snap:v1\nbusybox:latest\n");
    CHECK(r.isolab({"images", "--format", "{{.Repository}}:{{.Tag}}", "snap"}).out == "snap:v1\n");
    CHECK(r.isolab({"images", "-q", "snap:v2"}).out.empty());
    CHECK(r.isolab({"images", "--format", "{{.Repository}}", "-f", "reference=busy*"}).out == "busybox\n");
    auto bad = r.isolab({"images", "-f", "dangling=maybe"});
    CHECK(bad.code == 1);
    CHECK(bad.err == "Error response from daemon: invalid filter 'dangling=[maybe]'\n");

    auto ij = lines(r.isolab({"images", "--format", "json", "busybox"}).out);
    REQUIRE(ij.size() == 1);
    // Go's json.Marshal escapes '<' and '>' in the formatter struct, as Docker prints it.
    CHECK(ij[0].find("\"Digest\":\"\\u003cnone\\u003e\"") != std::string::npos);
    auto image = json::parse(ij[0], nullptr, false);
    REQUIRE(image.is_object());
    CHECK(keys_of(image) == std::set<std::string>{"Containers", "CreatedAt", "CreatedSince", "Digest", "ID",
                                                  "Repository", "SharedSize", "Size", "Tag", "UniqueSize",
                                                  "VirtualSize"});
    CHECK(image.value("Repository", "") == "busybox");
    CHECK(image.value("Containers", "") == "N/A");

    REQUIRE(r.isolab({"network", "create", "--label", "env=dev", "spare"}).code == 0);
    auto spare = r.isolab({"network", "ls", "-q", "-f", "dangling=true"});
    CHECK(spare.code == 0);
    CHECK(lines(spare.out).size() == 1);
    CHECK(r.isolab({"network", "ls", "--format", "{{.Name}}", "--filter", "label=env=dev"}).out == "spare\n");
    CHECK(r.isolab({"network", "ls", "--format", "{{.Name}}", "-f", "type=builtin", "-f", "name=^b"}).out ==
          "bridge\n");
    auto nj = lines(r.isolab({"network", "ls", "--format", "json", "-f", "name=spare"}).out);
    REQUIRE(nj.size() == 1);
    auto network = json::parse(nj[0], nullptr, false);
    REQUIRE(network.is_object());
    CHECK(keys_of(network) ==
          std::set<std::string>{"CreatedAt", "Driver", "ID", "IPv4", "IPv6", "Internal", "Labels", "Name", "Scope"});
    CHECK(network.value("Labels", "") == "env=dev");
    CHECK(network.value("ID", "") == spare.out.substr(0, 12));
    auto nbad = r.isolab({"network", "ls", "-f", "type=mine"});
    CHECK(nbad.code == 1);
    CHECK(nbad.err == "Error response from daemon: invalid filter: 'type'='mine'\n");
}

TEST_CASE("inspect: an unknown object prints [] and then the error; a container has no Mounts") {
    if (!can_run_real()) return;
    TempRoot r;
    auto none = r.isolab({"inspect", "zzz-nope"});
    CHECK(none.code == 1);
    CHECK(none.out == "[]\n");
    CHECK(none.err == "Error: No such object: zzz-nope\n");
    REQUIRE(r.isolab({"create", "--name", "cc", "busybox", "true"}).code == 0);
    auto mounts = r.isolab({"inspect", "-f", "{{json .Mounts}}", "cc"});
    CHECK(mounts.code == 0);
    CHECK(mounts.out == "[]\n");
    auto mixed = r.isolab({"inspect", "-f", "{{.Name}}", "cc", "zzz-nope"});
    CHECK(mixed.code == 1);
    CHECK(mixed.out == "/cc\n");
    CHECK(mixed.err == "Error: No such object: zzz-nope\n");
}
