// `container prune`, `image prune`, `network prune`, `system prune` and `system df` on the real
// runtime through the real binary, each case in its own ISOLAB_ROOT: each prune removes exactly
// what Docker's would (stopped containers; dangling, or with -a unused, images; user networks no
// container is on), the prompt's "N" (or no answer) keeps everything, the words and sizes are
// Docker's, and nothing is left behind (mounts, layer directories, bridges).
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool can_run_real(const TempRoot& r) {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the prune tests run real containers and bridges: they need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("inside a chroot the runtime cannot pivot_root: no real containers here");
        return false;
    }
    auto v = r.isolab({"version"});
    if (v.out.find("Backend: namespaces") == std::string::npos) {
        ISOLAB_SKIP("no real containers here: " << v.out);
        return false;
    }
    return true;
}

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::set<std::string> lines_of(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.insert(line);
    return out;
}

// The lines under HEADING up to the empty line that ends Docker's section.
std::set<std::string> section(const std::string& out, const std::string& heading) {
    size_t at = out.find(heading + "\n");
    if (at == std::string::npos) return {};
    size_t begin = at + heading.size() + 1;
    size_t end = out.find("\n\n", begin);
    return lines_of(out.substr(begin, end == std::string::npos ? std::string::npos : end - begin + 1));
}

std::set<std::string> names_of_all(const TempRoot& r) { return lines_of(r.isolab({"ps", "-a", "--format", "{{.Names}}"}).out); }

std::set<std::string> image_ids(const TempRoot& r) {
    return lines_of(r.isolab({"images", "-q", "--no-trunc"}).out);
}

// The NAME column of `network ls`.
std::set<std::string> network_names(const TempRoot& r) {
    std::set<std::string> out;
    for (const auto& line : lines_of(r.isolab({"network", "ls"}).out)) {
        std::istringstream words(line);
        std::string id, name;
        words >> id >> name;
        if (id != "NETWORK") out.insert(name);
    }
    return out;
}

std::set<std::string> dir_entries(const std::string& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
    return out;
}

// The id `build -q` printed for a Dockerfile whose one RUN writes BYTES zero bytes to /big.
std::string build_with(const TempRoot& r, const std::string& tag, int bytes) {
    std::string ctx = r.path() + "/ctx-" + std::to_string(bytes);
    write_text(ctx + "/Dockerfile", "FROM busybox\nRUN head -c " + std::to_string(bytes) + " /dev/zero > /big\n");
    auto b = r.isolab({"build", "-q", "-t", tag, ctx}, 120000);
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    return trim_nl(b.out);
}

constexpr const char* kContainerPrompt =
    "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ";

}  // namespace

TEST_CASE("prune: container prune removes created, exited and killed containers, keeps running and paused ones") {
    TempRoot r;
    if (!can_run_real(r)) return;
    REQUIRE(r.isolab({"run", "--name", "exited", "busybox", "sh", "-c", "head -c 1000 /dev/zero > /f"}).code == 0);
    REQUIRE(r.isolab({"create", "--name", "created", "busybox", "true"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "killed", "busybox", "sleep", "60"}).code == 0);
    REQUIRE(r.isolab({"kill", "killed"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "running", "busybox", "sleep", "60"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "paused", "busybox", "sleep", "60"}).code == 0);
    REQUIRE(r.isolab({"pause", "paused"}).code == 0);
    const std::set<std::string> all = {"exited", "created", "killed", "running", "paused"};
    REQUIRE(names_of_all(r) == all);
    const std::string exited_id = r.id_of("exited"), created_id = r.id_of("created"), killed_id = r.id_of("killed");

    // "N", no answer at all, and anything but y/Y: the question, nothing more, exit 0, all kept.
    for (const std::string answer : {"N\n", "n\n", "", "yes\n"}) {
        INFO("answer: " << answer);
        auto no = r.isolab({"container", "prune"}, 60000, answer);
        CHECK(no.code == 0);
        CHECK(no.out == kContainerPrompt);
        CHECK(no.err.empty());
        CHECK(names_of_all(r) == all);
    }

    auto yes = r.isolab({"container", "prune"}, 60000, "y\n");
    INFO(yes.out << yes.err);
    CHECK(yes.code == 0);
    CHECK(yes.out.rfind(std::string(kContainerPrompt) + "Deleted Containers:\n", 0) == 0);
    CHECK(section(yes.out, "Deleted Containers:") == std::set<std::string>{exited_id, created_id, killed_id});
    // The exited container's writable layer held /f (1000 bytes); the others wrote nothing.
    CHECK(yes.out.size() >= 29);
    CHECK(yes.out.substr(yes.out.size() - 29) == "\n\nTotal reclaimed space: 1kB\n");
    CHECK(names_of_all(r) == std::set<std::string>{"running", "paused"});
    for (const auto& id : {exited_id, created_id, killed_id}) {
        CHECK_FALSE(mounts_mention(id));
        CHECK_FALSE(fs::exists(r.path() + "/containers/" + id));
    }
    CHECK(r.isolab({"exec", "running", "true"}).code == 0);

    // Nothing stopped: only the total.
    auto again = r.isolab({"container", "prune", "-f"});
    CHECK(again.code == 0);
    CHECK(again.out == "Total reclaimed space: 0B\n");

    // Filters: label! keeps the labelled one; until=1h keeps what is younger than an hour.
    REQUIRE(r.isolab({"run", "--name", "keep", "--label", "keep=1", "busybox", "true"}).code == 0);
    REQUIRE(r.isolab({"run", "--name", "drop", "busybox", "true"}).code == 0);
    const std::string drop_id = r.id_of("drop");
    auto young = r.isolab({"container", "prune", "-f", "--filter", "until=1h"});
    CHECK(young.out == "Total reclaimed space: 0B\n");
    auto unlabelled = r.isolab({"container", "prune", "-f", "--filter", "label!=keep"});
    CHECK(section(unlabelled.out, "Deleted Containers:") == std::set<std::string>{drop_id});
    CHECK(names_of_all(r) == std::set<std::string>{"running", "paused", "keep"});
    auto bad = r.isolab({"container", "prune", "-f", "--filter", "status=exited"});
    CHECK(bad.code == 1);
    CHECK(bad.err == "Error response from daemon: invalid filter 'status'\n");
    CHECK(names_of_all(r) == std::set<std::string>{"running", "paused", "keep"});

    REQUIRE(r.isolab({"rm", "-f", "running", "paused", "keep"}).code == 0);
    CHECK_FALSE(mounts_mention(r.path()));
}

TEST_CASE("prune: image prune removes the dangling image, -a every unused one; busybox comes back the same") {
    TempRoot r;
    if (!can_run_real(r)) return;
    const std::string busybox = trim_nl(r.isolab({"image", "inspect", "-f", "{{.Id}}", "busybox"}).out);
    REQUIRE(busybox.rfind("sha256:", 0) == 0);
    // Built twice with one tag: the first image loses its name and is dangling.
    const std::string first = build_with(r, "app:1", 3000);
    const std::string second = build_with(r, "app:1", 5000);
    REQUIRE(first != second);
    REQUIRE(r.isolab({"run", "--name", "user", "app:1", "true"}).code == 0);  // app:1 is used
    REQUIRE(r.isolab({"tag", "busybox", "spare:1"}).code == 0);
    const auto before = image_ids(r);
    REQUIRE(before == std::set<std::string>{busybox, first, second});
    const auto layers_before = dir_entries(r.path() + "/images/layers");

    auto no = r.isolab({"image", "prune"}, 60000, "N\n");
    CHECK(no.code == 0);
    CHECK(no.out == "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ");
    CHECK(image_ids(r) == before);
    auto no_all = r.isolab({"image", "prune", "-a"}, 60000, "\n");
    CHECK(no_all.out ==
          "WARNING! This will remove all images without at least one container associated to them.\n"
          "Are you sure you want to continue? [y/N] ");
    CHECK(image_ids(r) == before);

    auto dangling = r.isolab({"image", "prune", "-f"});
    INFO(dangling.out << dangling.err);
    CHECK(dangling.code == 0);
    auto deleted = section(dangling.out, "Deleted Images:");
    CHECK(deleted.count("deleted: " + first) == 1);
    CHECK(deleted.size() == 2);  // the config and the one layer only it had (its RUN's)
    CHECK(dangling.out.find("untagged:") == std::string::npos);
    CHECK(dangling.out.substr(dangling.out.size() - 29) == "\n\nTotal reclaimed space: 3kB\n");
    CHECK(image_ids(r) == std::set<std::string>{busybox, second});
    auto layers_after = dir_entries(r.path() + "/images/layers");
    CHECK(layers_after.size() + 1 == layers_before.size());

    // -a: busybox (and its second name) goes, app:1 stays for its container.
    auto all = r.isolab({"image", "prune", "-a", "-f"});
    INFO(all.out << all.err);
    CHECK(all.code == 0);
    CHECK(section(all.out, "Deleted Images:") ==
          std::set<std::string>{"untagged: busybox:latest", "untagged: spare:1", "deleted: " + busybox});
    CHECK(all.out.find("app:1") == std::string::npos);
    CHECK(fs::exists(r.path() + "/images/configs/" + second.substr(7) + ".json"));
    CHECK_FALSE(fs::exists(r.path() + "/images/configs/" + busybox.substr(7) + ".json"));
    // app:1's layers include busybox's: every layer directory it names is still there.
    CHECK(r.isolab({"run", "--rm", "app:1", "sh", "-c", "wc -c < /big"}).out == "5000\n");

    // The base image is made again from the host's static busybox, with the same id.
    CHECK(r.isolab({"run", "--rm", "busybox", "true"}).code == 0);
    CHECK(trim_nl(r.isolab({"image", "inspect", "-f", "{{.Id}}", "busybox"}).out) == busybox);
}

TEST_CASE("prune: network prune removes user networks no container is on, never bridge, host or none") {
    TempRoot r;
    if (!can_run_real(r)) return;
    REQUIRE(r.isolab({"network", "create", "--label", "team=a", "unused"}).code == 0);
    REQUIRE(r.isolab({"network", "create", "used"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "on-used", "--network", "used", "busybox", "sleep", "60"}).code == 0);
    // The bridge device of `unused` exists once a container has been on it (a network's first
    // start makes it) and must go with the network.
    REQUIRE(r.isolab({"run", "--rm", "--network", "unused", "busybox", "true"}).code == 0);
    auto net = json::parse(r.isolab({"network", "inspect", "unused"}).out, nullptr, false);
    REQUIRE(net.is_array());
    const std::string bridge = net[0]["Options"].value("com.docker.network.bridge.name", "");
    REQUIRE_FALSE(bridge.empty());
    REQUIRE(fs::exists("/sys/class/net/" + bridge));
    const std::set<std::string> before = {"bridge", "host", "none", "unused", "used"};
    REQUIRE(network_names(r) == before);

    auto no = r.isolab({"network", "prune"}, 60000, "n\n");
    CHECK(no.code == 0);
    CHECK(no.out ==
          "WARNING! This will remove all custom networks not used by at least one container.\n"
          "Are you sure you want to continue? [y/N] ");
    CHECK(network_names(r) == before);

    // A label filter that `unused` does not match keeps it.
    auto other = r.isolab({"network", "prune", "-f", "--filter", "label=team=b"});
    CHECK(other.code == 0);
    CHECK(other.out.empty());
    CHECK(network_names(r) == before);

    auto yes = r.isolab({"network", "prune"}, 60000, "Y\n");
    CHECK(yes.code == 0);
    CHECK(yes.out ==
          "WARNING! This will remove all custom networks not used by at least one container.\n"
          "Are you sure you want to continue? [y/N] Deleted Networks:\nunused\n\n");
    CHECK(network_names(r) == std::set<std::string>{"bridge", "host", "none", "used"});
    CHECK_FALSE(fs::exists("/sys/class/net/" + bridge));
    CHECK(r.isolab({"network", "prune", "-f"}).out.empty());

    REQUIRE(r.isolab({"rm", "-f", "on-used"}).code == 0);
    CHECK(r.isolab({"network", "prune", "-f"}).out == "Deleted Networks:\nused\n\n");
    CHECK(network_names(r) == std::set<std::string>{"bridge", "host", "none"});
}

TEST_CASE("prune: system prune asks Docker's question, removes stopped containers, unused networks, images, cache") {
    TempRoot r;
    if (!can_run_real(r)) return;
    REQUIRE(r.isolab({"network", "create", "kept"}).code == 0);
    REQUIRE(r.isolab({"network", "create", "freed"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "live", "--network", "kept", "busybox", "sleep", "60"}).code == 0);
    REQUIRE(r.isolab({"run", "--name", "done", "--network", "freed", "busybox", "true"}).code == 0);
    const std::string first = build_with(r, "app:1", 2000);
    const std::string second = build_with(r, "app:1", 4000);
    const std::string done_id = r.id_of("done");
    const auto cache_before = dir_entries(r.path() + "/images/build-cache");
    REQUIRE(cache_before.size() == 2);  // one RUN step per build

    auto df = r.isolab({"system", "df"});
    INFO(df.out << df.err);
    CHECK(df.code == 0);
    CHECK(df.out.rfind("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
                       "Images          3         1         ", 0) == 0);
    CHECK(df.out.find("\nContainers      2         1         0B        0B\n") != std::string::npos);
    CHECK(df.out.find("\nLocal Volumes   0         0         0B        0B\n") != std::string::npos);
    CHECK(df.out.find("\nBuild Cache     2         0         ") != std::string::npos);
    auto dfv = r.isolab({"system", "df", "-v"});
    CHECK(dfv.out.rfind("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED", 0) == 0);
    CHECK(dfv.out.find("\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND") != std::string::npos);
    CHECK(dfv.out.find("\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n\nBuild cache usage: ") !=
          std::string::npos);
    CHECK(dfv.out.find("\nCACHE ID       CACHE TYPE   SIZE") != std::string::npos);

    const std::string question =
        "WARNING! This will remove:\n"
        "  - all stopped containers\n"
        "  - all networks not used by at least one container\n"
        "  - all dangling images\n"
        "  - unused build cache\n\n"
        "Are you sure you want to continue? [y/N] ";
    auto no = r.isolab({"system", "prune"}, 60000, "N\n");
    CHECK(no.code == 0);
    CHECK(no.out == question);
    CHECK(names_of_all(r) == std::set<std::string>{"live", "done"});
    CHECK(network_names(r).count("freed") == 1);
    CHECK(image_ids(r).count(first) == 1);

    auto yes = r.isolab({"system", "prune"}, 60000, "y\n");
    INFO(yes.out << yes.err);
    CHECK(yes.code == 0);
    REQUIRE(yes.out.rfind(question, 0) == 0);
    const std::string report = yes.out.substr(question.size());
    // Docker's order: containers, networks, images, build cache, the total.
    size_t c = report.find("Deleted Containers:\n"), n = report.find("Deleted Networks:\n"),
           i = report.find("Deleted Images:\n"), b = report.find("Deleted build cache objects:\n"),
           t = report.find("Total reclaimed space: ");
    CHECK(c == 0);
    CHECK(c < n);
    CHECK(n < i);
    CHECK(i < b);
    CHECK(b < t);
    CHECK(section(report, "Deleted Containers:") == std::set<std::string>{done_id});
    CHECK(section(report, "Deleted Networks:") == std::set<std::string>{"freed"});
    CHECK(section(report, "Deleted Images:").count("deleted: " + first) == 1);
    // The first build's cache entry named the layer that went with its image: it is dangling.
    CHECK(section(report, "Deleted build cache objects:").size() == 1);
    CHECK(dir_entries(r.path() + "/images/build-cache").size() == 1);
    CHECK(names_of_all(r) == std::set<std::string>{"live"});
    CHECK(network_names(r) == std::set<std::string>{"bridge", "host", "none", "kept"});
    CHECK(image_ids(r).count(first) == 0);
    CHECK(image_ids(r).count(second) == 1);
    CHECK_FALSE(mounts_mention(done_id));

    // -a --volumes: Docker's longer question (not asked with -f); no volume exists here
    // (tests/integration/test_volumes.cpp prunes some).
    auto ask_all = r.isolab({"system", "prune", "-a", "--volumes"}, 60000, "");
    CHECK(ask_all.out ==
          "WARNING! This will remove:\n"
          "  - all stopped containers\n"
          "  - all networks not used by at least one container\n"
          "  - all anonymous volumes not used by at least one container\n"
          "  - all images without at least one container associated to them\n"
          "  - all build cache\n\n"
          "Are you sure you want to continue? [y/N] ");
    REQUIRE(r.isolab({"rm", "-f", "live"}).code == 0);
    auto all = r.isolab({"system", "prune", "-a", "-f", "--volumes"});
    INFO(all.out << all.err);
    CHECK(all.code == 0);
    CHECK(section(all.out, "Deleted Networks:") == std::set<std::string>{"kept"});
    CHECK(section(all.out, "Deleted Images:").count("untagged: app:1") == 1);
    CHECK(section(all.out, "Deleted Images:").count("untagged: busybox:latest") == 1);
    CHECK(section(all.out, "Deleted build cache objects:").size() == 1);
    CHECK(dir_entries(r.path() + "/images/build-cache").empty());
    CHECK(dir_entries(r.path() + "/images/configs").empty());
    CHECK(r.isolab({"system", "df"}).out ==
          "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
          "Images          0         0         0B        0B\n"
          "Containers      0         0         0B        0B\n"
          "Local Volumes   0         0         0B        0B\n"
          "Build Cache     0         0         0B        0B\n");
    CHECK(r.isolab({"system", "prune", "-f"}).out == "Total reclaimed space: 0B\n");
    CHECK_FALSE(mounts_mention(r.path()));
}
