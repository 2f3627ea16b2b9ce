// Garbled state (issue 12, items 2-5): a record that cannot be read must neither hide a running
// container from every command (so that nothing can stop it), nor make IsoLab rewrite the tags
// from nothing, nor be reported as something else; and a valid image archive from another tool
// must load with its digests unchanged. Each case damages a file of the state root (or brings in
// another tool's archive) and asserts what the user can still see and do.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "security.hpp"

using namespace isolab::test;
using nlohmann::json;

namespace {

json inspect(const TempRoot& r, const std::string& name) {
    auto res = r.isolab({"inspect", name});
    auto j = json::parse(res.out, nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty()) return json::object();
    return j[0];
}

void overwrite(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc | std::ios::binary);
    f << text;
    REQUIRE(f.good());
}

int count_lines_with(const std::string& text, const std::string& needle) {
    int n = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
}

// A scratch directory next to a TempRoot, removed on every exit (a failed REQUIRE included).
struct Scratch {
    std::string path;
    explicit Scratch(std::string p) : path(std::move(p)) { std::filesystem::create_directories(path); }
    ~Scratch() {
        run_process({"umount", "-R", path + "/root"});  // podman's store, if it mounted anything
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

bool have(const char* tool) { return run_process({"sh", "-c", std::string("command -v ") + tool}).code == 0; }

// The layer digests an image config lists.
std::vector<std::string> diff_ids_of(const std::string& config_path) {
    auto j = json::parse(read_text(config_path), nullptr, false);
    std::vector<std::string> out;
    if (j.is_object() && j.contains("rootfs"))
        for (const auto& d : j["rootfs"].value("diff_ids", json::array())) out.push_back(d.get<std::string>());
    return out;
}

// A running container with a restart policy (its monitor would bring PID 1 back), then its record
// garbled the way a full disk or a bad edit leaves it.
struct GarbledRunning {
    std::string id, record, bad;
    int pid = 0, monitor = 0;
    std::vector<std::string> cgroups;
};

GarbledRunning garble_running(const TempRoot& r, const std::string& name) {
    GarbledRunning g;
    auto run = r.isolab({"run", "-d", "--name", name, "--restart", "always", "busybox", "sleep", "300"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    json j = inspect(r, name);
    g.id = j.value("Id", "");
    g.pid = j["State"].value("Pid", 0);
    g.monitor = j["IsoLab"].value("MonitorPid", 0);
    g.cgroups = j["IsoLab"].value("CgroupPaths", std::vector<std::string>{});
    REQUIRE(g.id.size() == 64);
    REQUIRE(process_alive(g.pid));
    REQUIRE(process_alive(g.monitor));
    g.record = r.path() + "/containers/" + g.id + "/container.json";
    g.bad = g.record + ".bad";
    overwrite(g.record, "{\"id\": \"" + g.id.substr(0, 9));
    return g;
}

void check_gone(const TempRoot& r, const GarbledRunning& g) {
    CHECK_FALSE(process_alive(g.pid));
    CHECK_FALSE(process_alive(g.monitor));
    CHECK_FALSE(std::filesystem::exists(r.path() + "/containers/" + g.id));
    for (const auto& c : g.cgroups) CHECK_MESSAGE(!std::filesystem::exists(c), "cgroup left: " << c);
}

}  // namespace

TEST_CASE("corrupt state: a running container whose record is garbled stays visible as Dead, and rm -f removes it completely") {
    if (!can_attack()) return;
    TempRoot r;
    auto g = garble_running(r, "victim");

    auto ps = r.isolab({"ps", "-a"});
    CHECK(ps.code == 0);
    CHECK(count_lines_with(ps.out, "victim") == 1);
    CHECK(count_lines_with(ps.out, "Dead") == 1);
    // One warning, once, naming where the record went.
    CHECK(count_lines_with(ps.err, "WARNING: ") == 1);
    CHECK(ps.err.find("`" + g.bad + "`") != std::string::npos);
    CHECK(r.isolab({"ps", "-a"}).err.empty());
    CHECK(read_text(g.bad) == "{\"id\": \"" + g.id.substr(0, 9));  // kept for the user
    CHECK(process_alive(g.pid));  // nothing killed yet: only the user decides

    json j = inspect(r, "victim");
    CHECK(j.value("Id", "") == g.id);
    CHECK(j["State"].value("Status", "") == "dead");
    CHECK(j["State"].value("Error", "").find(g.bad) != std::string::npos);
    CHECK(r.isolab({"start", "victim"}).code != 0);  // Dead cannot be started
    CHECK_FALSE(std::filesystem::exists(g.record));   // and nothing wrote a record back

    auto rm = r.isolab({"rm", "-f", "victim"});
    CHECK_MESSAGE(rm.code == 0, rm.err);
    check_gone(r, g);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    // The name is free again.
    auto again = r.isolab({"run", "--rm", "--name", "victim", "busybox", "true"});
    CHECK_MESSAGE(again.code == 0, again.err);
}

TEST_CASE("corrupt state: system reset removes a running container whose record is garbled") {
    if (!can_attack()) return;
    TempRoot r;
    auto g = garble_running(r, "victim");
    auto reset = r.isolab({"system", "reset", "-f"});
    CHECK_MESSAGE(reset.code == 0, reset.err);
    check_gone(r, g);
}

TEST_CASE("corrupt state: a garbled repositories.json is moved aside and no command rewrites the tags from it") {
    if (!can_attack()) return;
    TempRoot r;
    REQUIRE(r.isolab({"tag", "busybox", "keep:1"}).code == 0);
    REQUIRE(r.isolab({"tag", "busybox", "keep:2"}).code == 0);
    const std::string repos = r.path() + "/images/repositories.json";
    std::string before = read_text(repos);
    REQUIRE(before.find("keep:2") != std::string::npos);
    const std::string garbled = before.substr(0, before.size() / 2);
    overwrite(repos, garbled);

    auto tag = r.isolab({"tag", "busybox", "new:1"});
    CHECK(tag.code == 1);
    CHECK(tag.err.find("`" + repos + "`") != std::string::npos);
    CHECK(count_lines_with(tag.err, "WARNING: ") == 1);
    CHECK(tag.err.find("`" + repos + ".bad`") != std::string::npos);
    CHECK(read_text(repos + ".bad") == garbled);      // every tag still there for the user
    CHECK_FALSE(std::filesystem::exists(repos));     // not rewritten with new:1 alone

    // The images are still there, untagged; IsoLab goes on with what it knows.
    auto images = r.isolab({"images"});
    CHECK(images.code == 0);
    CHECK(images.out.find("keep") == std::string::npos);
    CHECK(r.isolab({"run", "--rm", "busybox", "true"}).code == 0);
}

TEST_CASE("corrupt state: a garbled network file is reported as corrupt, naming the file and the fix") {
    if (!can_attack()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "--rm", "busybox", "true"}).code == 0);
    const std::string file = r.path() + "/networks/bridge.json";
    REQUIRE(std::filesystem::exists(file));
    overwrite(file, "{\"name\": \"bri");
    auto run = r.isolab({"run", "--rm", "busybox", "true"});
    CHECK(run.code == 125);
    CHECK(first_line(run.err).find("network file `" + file + "` is corrupt: ") != std::string::npos);
    CHECK(first_line(run.err).find("isolab system reset") != std::string::npos);
    CHECK(run.err.find("not found") == std::string::npos);
    // The fix the message names works.
    std::filesystem::rename(file, file + ".bad");
    CHECK(r.isolab({"run", "--rm", "busybox", "true"}).code == 0);
}

TEST_CASE("corrupt state: an image podman saved loads with every diff_id unchanged and runs") {
    if (!can_attack()) return;
    if (!have("podman")) {
        ISOLAB_SKIP("podman is not installed (tools/setup.sh test installs it)");
        return;
    }
    TempRoot r;
    Scratch scratch(r.path() + "-podman");
    const std::string& work = scratch.path;
    std::filesystem::create_directories(work + "/rootfs/bin");
    std::filesystem::copy_file("/bin/busybox", work + "/rootfs/bin/busybox");
    std::filesystem::create_symlink("busybox", work + "/rootfs/bin/sh");
    std::filesystem::create_symlink("busybox", work + "/rootfs/bin/echo");
    // Written by GNU tar and re-archived by podman (Go's archive/tar): bytes IsoLab would not make.
    REQUIRE(run_process({"tar", "-C", work + "/rootfs", "-cf", work + "/rootfs.tar", "."}).code == 0);
    const std::vector<std::string> podman = {"podman", "--root", work + "/root", "--runroot", work + "/run",
                                             "--cgroup-manager=cgroupfs", "--events-backend=file", "--storage-driver=vfs"};
    auto with = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = podman;
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, {}, 120000);
    };
    auto imported = with({"import", "--change", "CMD [\"/bin/sh\"]", work + "/rootfs.tar", "localhost/foreign:1"});
    REQUIRE_MESSAGE(imported.code == 0, imported.err);
    auto saved = with({"save", "--format", "docker-archive", "-o", work + "/foreign.tar", "localhost/foreign:1"});
    REQUIRE_MESSAGE(saved.code == 0, saved.err);
    with({"rmi", "-a", "-f"});
    run_process({"umount", "-R", work + "/root"});

    auto loaded = r.isolab({"load", "-i", work + "/foreign.tar"});
    REQUIRE_MESSAGE(loaded.code == 0, loaded.err);
    CHECK(loaded.out == "Loaded image: foreign:1\n");
    // The image id is the config's digest: the config (and the diff_ids in it) came through as is.
    auto id = run_process({"tar", "-xOf", work + "/foreign.tar", "manifest.json"});
    auto manifest = json::parse(id.out, nullptr, false);
    REQUIRE(manifest.is_array());
    std::string config_name = manifest[0].value("Config", "");
    std::string hex = config_name.substr(config_name.rfind('/') + 1);
    if (hex.size() > 5 && hex.compare(hex.size() - 5, 5, ".json") == 0) hex.resize(hex.size() - 5);
    const std::string config = r.path() + "/images/configs/" + hex + ".json";
    REQUIRE(std::filesystem::exists(config));
    auto ids = diff_ids_of(config);
    REQUIRE_FALSE(ids.empty());
    for (const auto& d : ids) CHECK_MESSAGE(std::filesystem::is_directory(r.path() + "/images/layers/" + d.substr(7)), d);
    auto ran = r.isolab({"run", "--rm", "foreign:1", "echo", "from podman"});
    CHECK_MESSAGE(ran.out == "from podman\n", ran.err);

    // Saved again, the layers are the same bytes: their blobs are named by the same digests.
    REQUIRE(r.isolab({"save", "-o", work + "/again.tar", "foreign:1"}).code == 0);
    auto listing = run_process({"tar", "-tf", work + "/again.tar"});
    for (const auto& d : ids) CHECK(listing.out.find("blobs/sha256/" + d.substr(7) + "\n") != std::string::npos);
}

TEST_CASE("corrupt state: an isolab archive that skopeo re-archived loads with the same image id and runs") {
    if (!can_attack()) return;
    if (!have("skopeo")) {
        ISOLAB_SKIP("skopeo is not installed (tools/setup.sh test installs it)");
        return;
    }
    TempRoot a, b;
    Scratch scratch(a.path() + "-skopeo");
    const std::string& work = scratch.path;
    auto made = a.isolab({"run", "--name", "src", "busybox", "sh", "-c", "echo layered > /marker"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    REQUIRE(a.isolab({"commit", "src", "mine:1"}).code == 0);
    REQUIRE(a.isolab({"save", "-o", work + "/isolab.tar", "mine:1"}).code == 0);
    auto copied = run_process({"skopeo", "copy", "docker-archive:" + work + "/isolab.tar",
                               "docker-archive:" + work + "/skopeo.tar:mine:1"},
                              {}, 120000);
    REQUIRE_MESSAGE(copied.code == 0, copied.err);
    auto loaded = b.isolab({"load", "-i", work + "/skopeo.tar"});
    CHECK_MESSAGE(loaded.code == 0, loaded.err);
    auto id_a = a.isolab({"images", "-q", "--no-trunc", "mine:1"});
    auto id_b = b.isolab({"images", "-q", "--no-trunc", "mine:1"});
    CHECK_FALSE(id_a.out.empty());
    CHECK(id_a.out == id_b.out);
    CHECK(b.isolab({"run", "--rm", "mine:1", "cat", "/marker"}).out == "layered\n");
}
