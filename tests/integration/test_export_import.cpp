// `isolab export` and `isolab import` through the real binary: a container's whole file system
// (image layers, its writable layer, deletions applied) goes out as a tar, running or stopped,
// and comes back as a one-layer image that runs; `import -c` sets the new image's settings; the
// refusals are Docker's (and IsoLab's one line for a URL). Each case has its own ISOLAB_ROOT.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool can_run_real() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("export and import need real containers (root; CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("inside a chroot containers are simulated and have no file system to export");
        return false;
    }
    return true;
}

// The entry names of a tar, as GNU tar lists them.
std::set<std::string> tar_names(const std::string& path) {
    auto listed = run_process({"/bin/tar", "-tf", path});
    REQUIRE(listed.code == 0);
    std::set<std::string> names;
    std::istringstream in(listed.out);
    for (std::string line; std::getline(in, line);) names.insert(line);
    return names;
}

// Overlay mounts a leaked export would leave: the temporary mount point's name.
bool merged_mount_left() { return mounts_mention("isolab-merged-"); }

}  // namespace

TEST_CASE("export: a running container's file system, deletions applied, imports as an image that runs") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "live", "busybox", "sh", "-c",
                      "echo hello > /x; mkdir -p /data/sub; echo deep > /data/sub/f; rm /bin/vi; sleep 1000"})
                .code == 0);
    REQUIRE(poll_until(10s, [&] { return r.isolab({"exec", "live", "cat", "/data/sub/f"}).out == "deep\n"; }));

    const std::string tar = r.path() + "/live.tar";
    auto exported = r.isolab({"export", "-o", tar, "live"});
    INFO(exported.err);
    REQUIRE(exported.code == 0);
    CHECK(exported.out.empty());
    CHECK_FALSE(merged_mount_left());
    CHECK(r.isolab({"inspect", "-f", "{{.State.Running}}", "live"}).out == "true\n");  // not stopped by export

    const auto names = tar_names(tar);
    CHECK(names.count("x"));
    CHECK(names.count("data/sub/f"));
    CHECK(names.count("bin/busybox"));  // the image's layer is in it, not only the writable one
    CHECK(names.count("bin/sh"));
    CHECK_FALSE(names.count("bin/vi"));  // deleted in the container: not what it sees
    for (const auto& n : names) {
        CAPTURE(n);
        CHECK(n.find(".wh.") == std::string::npos);  // whiteouts applied, not exported
        CHECK(n.rfind("./", 0) != 0);
        CHECK(n.front() != '/');
    }
    for (const auto& e : fs::directory_iterator(r.path()))  // written as live.tar.tmp.PID, then renamed
        CHECK(e.path().filename().string().rfind("live.tar.", 0) != 0);

    auto imported = r.isolab({"import", tar, "fromlive:1"});
    INFO(imported.err);
    REQUIRE(imported.code == 0);
    CHECK(imported.out.rfind("sha256:", 0) == 0);
    CHECK(imported.out.size() == 7 + 64 + 1);
    const std::string id = imported.out.substr(0, imported.out.size() - 1);
    CHECK(r.isolab({"inspect", "-f", "{{.Id}}", "fromlive:1"}).out == id + "\n");
    CHECK(r.isolab({"run", "--rm", "fromlive:1", "cat", "/x", "/data/sub/f"}).out == "hello\ndeep\n");
    CHECK(r.isolab({"run", "--rm", "fromlive:1", "ls", "/bin/vi"}).code != 0);
    auto hist = r.isolab({"history", "fromlive:1"});
    CHECK(hist.out.find("Imported from -") != std::string::npos);
    // One layer, and no Cmd: the image is only a file system, as Docker's import makes it.
    auto j = json::parse(r.isolab({"inspect", "fromlive:1"}).out, nullptr, false);
    REQUIRE(j.is_array());
    CHECK(j[0]["RootFS"]["Layers"].size() == 1);
}

TEST_CASE("export: a stopped container to stdout, imported from stdin; import -c sets CMD; -m the comment") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "--name", "done", "busybox", "sh", "-c", "echo bye > /y; echo cat-me > /x"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.State.Status}}", "done"}).out == "exited\n");
    auto streamed = r.isolab({"export", "done"});
    INFO(streamed.err);
    REQUIRE(streamed.code == 0);
    REQUIRE(streamed.out.size() > 1000000);  // busybox alone is ~2 MB
    const std::string tar = r.path() + "/done.tar";
    write_text(tar, streamed.out);
    CHECK(tar_names(tar).count("y"));
    CHECK_FALSE(merged_mount_left());
    // The same container exported twice gives the same bytes (sorted, numeric owners).
    CHECK(r.isolab({"export", "done"}).out == streamed.out);

    auto piped = r.isolab({"import", "-", "piped"}, 60000, streamed.out);
    INFO(piped.err);
    REQUIRE(piped.code == 0);
    CHECK(r.isolab({"run", "--rm", "piped", "cat", "/y"}).out == "bye\n");

    auto with_cmd = r.isolab({"import", "-c", "CMD [\"cat\",\"/x\"]", "-m", "from done", tar, "withcmd:2"});
    INFO(with_cmd.err);
    REQUIRE(with_cmd.code == 0);
    CHECK(r.isolab({"run", "--rm", "withcmd:2"}).out == "cat-me\n");
    CHECK(r.isolab({"inspect", "-f", "{{json .Config.Cmd}}", "withcmd:2"}).out == "[\"cat\",\"/x\"]\n");
    CHECK(r.isolab({"history", "withcmd:2"}).out.find("from done") != std::string::npos);
    // The image alias, Docker's `image import`, and ENV/WORKDIR changes.
    auto alias = r.isolab({"image", "import", "-c", "ENV A=1", "-c", "WORKDIR /data", tar, "alias"});
    REQUIRE(alias.code == 0);
    CHECK(r.isolab({"run", "--rm", "alias", "sh", "-c", "echo $A; pwd"}).out == "1\n/data\n");
}

TEST_CASE("export and import refusals: Docker's words and exit codes, and nothing made") {
    if (!can_run_real()) return;
    TempRoot r;
    auto none = r.isolab({"export", "nosuch"});
    CHECK(none.code == 1);
    CHECK(none.err == "Error response from daemon: No such container: nosuch\n");
    REQUIRE(r.isolab({"create", "--name", "c1", "busybox", "true"}).code == 0);
    auto nodir = r.isolab({"export", "-o", "/nonexistent-dir/x.tar", "c1"});
    CHECK(nodir.code == 1);
    CHECK(nodir.err ==
          "failed to export container: invalid output path: stat /nonexistent-dir: no such file or directory\n");
    // A container created but never started exports its image's file system.
    const std::string created = r.path() + "/c1.tar";
    REQUIRE(r.isolab({"container", "export", "-o", created, "c1"}).code == 0);
    CHECK(tar_names(created).count("bin/busybox"));

    const auto images_before = r.isolab({"images", "-q"}).out;
    auto url = r.isolab({"import", "https://example.com/rootfs.tar"});
    CHECK(url.code == 1);
    CHECK(url.err.find("isolab: IsoLab downloads nothing yet") == 0);
    CHECK(std::count(url.err.begin(), url.err.end(), '\n') == 1);
    auto missing = r.isolab({"import", "/nonexistent.tar"});
    CHECK(missing.code == 1);
    CHECK(missing.err == "open /nonexistent.tar: no such file or directory\n");
    auto bad_name = r.isolab({"import", created, "BAD"});
    CHECK(bad_name.code == 1);
    CHECK(bad_name.err == "invalid reference format: repository name (library/BAD) must be lowercase\n");
    auto bad_change = r.isolab({"import", "-c", "RUN true", created});
    CHECK(bad_change.code != 0);
    CHECK(bad_change.err.find("RUN is not a valid change command") != std::string::npos);
    // ONBUILD is one of the changes Docker's import takes (it is stored, not run); MAINTAINER is not.
    auto maintainer = r.isolab({"import", "-c", "MAINTAINER me", created});
    CHECK(maintainer.code != 0);
    CHECK(maintainer.err.find("MAINTAINER is not a valid change command") != std::string::npos);
    write_text(r.path() + "/not-a.tar", "this is not a tar archive\n");
    auto garbage = r.isolab({"import", r.path() + "/not-a.tar"});
    CHECK(garbage.code != 0);
    CHECK(garbage.err.find("Error response from daemon: ") == 0);
    CHECK(r.isolab({"images", "-q"}).out == images_before);
    // No staging folder of a refused import is left in the store.
    for (const auto& e : fs::directory_iterator(r.path() + "/images/layers"))
        CHECK(e.path().filename().string().rfind(".import", 0) != 0);
}

TEST_CASE("export: a rootless container (the overlay mounted in a user namespace of the caller's ids), imported back") {
    if (!can_run_real()) return;
    auto max = read_text("/proc/sys/user/max_user_namespaces");
    if (max.empty() || std::stoi(max) == 0) {
        ISOLAB_SKIP("user namespaces are disabled on this machine (max_user_namespaces = 0)");
        return;
    }
    auto probe = run_process({"unshare", "--user", "--map-root-user", "true"}, {}, 10000, "", 65534);
    if (probe.code != 0) {
        ISOLAB_SKIP("uid 65534 cannot create a user namespace here: the rootless path cannot run on this machine");
        return;
    }
    TempRoot r;
    r.use_private_binaries();
    r.uid = 65534;
    REQUIRE(::chown(r.path().c_str(), 65534, 65534) == 0);
    REQUIRE(r.isolab({"run", "--name", "rl", "busybox", "sh", "-c", "echo rootless > /r; rm /bin/vi"}).code == 0);
    const std::string tar = r.path() + "/rl.tar";
    auto exported = r.isolab({"export", "-o", tar, "rl"});
    INFO(exported.err);
    REQUIRE(exported.code == 0);
    const auto names = tar_names(tar);
    CHECK(names.count("r"));
    CHECK(names.count("bin/busybox"));
    CHECK_FALSE(names.count("bin/vi"));  // the userxattr overlay applies the rootless whiteout too
    CHECK_FALSE(merged_mount_left());
    REQUIRE(r.isolab({"import", tar, "rl:1"}).code == 0);
    CHECK(r.isolab({"run", "--rm", "rl:1", "cat", "/r"}).out == "rootless\n");
}
