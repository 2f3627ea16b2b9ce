// `isolab cp` through the real binary (issue 15, item 6): out of and into running, paused,
// stopped and never-started containers, `-` as a tar both ways, Docker's path rules (trailing
// "/.", a directory onto a file, a missing `DIR/`), Docker's words and exit codes, -a, -L, -q and
// the summary line on a terminal, volumes and bind mounts where the container sees them, the
// copied root (ISOLAB_ROOTFS=copy) and the rootless backend. Each case has its own ISOLAB_ROOT.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A host folder for the copies, removed at the end.
struct HostDir {
    std::string path;
    HostDir() {
        char tmpl[] = "/tmp/isl-cp-host.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~HostDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string owner_of(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

bool is_symlink(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// GNU tar's listing of a tar held in memory, one name per line.
std::set<std::string> tar_names_of(const std::string& tar) {
    auto listed = run_process({"/bin/tar", "-tf", "-"}, {}, 20000, tar);
    REQUIRE(listed.code == 0);
    std::set<std::string> names;
    std::istringstream in(listed.out);
    for (std::string line; std::getline(in, line);) names.insert(line);
    return names;
}

// A busybox container NAME, detached, with a small tree in /d.
void run_with_tree(const TempRoot& r, const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run", "-d", "--network", "none", "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"busybox", "sh", "-c",
                             "mkdir -p /d/sub && echo hi > /d/f && echo deep > /d/sub/g && ln -sf f /d/rl && "
                             "touch /ready && exec sleep 1000"});
    auto run = r.isolab(args);
    INFO(run.err);
    REQUIRE(run.code == 0);
    REQUIRE(poll_until(10s, [&] { return r.isolab({"exec", name, "test", "-e", "/ready"}).code == 0; }));
}

bool cp_mount_left() { return mounts_mention("isolab-cp-"); }

}  // namespace

TEST_CASE("cp: out of and into a running container, a tar with -, a trailing /., Docker's words and exit codes") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    HostDir h;
    run_with_tree(r, "web");

    // A file out, to a new name and into a folder.
    auto out = r.isolab({"cp", "web:/d/f", h.path + "/f1"});
    INFO(out.err);
    REQUIRE(out.code == 0);
    CHECK(out.err.empty());  // not a terminal: no summary (Docker's automatic -q)
    CHECK(read_text(h.path + "/f1") == "hi\n");
    fs::create_directory(h.path + "/into");
    REQUIRE(r.isolab({"cp", "web:/d/f", h.path + "/into"}).code == 0);
    CHECK(read_text(h.path + "/into/f") == "hi\n");
    // A folder: made as DEST when missing, copied under its name into an existing one.
    REQUIRE(r.isolab({"cp", "web:/d", h.path + "/dcopy"}).code == 0);
    CHECK(read_text(h.path + "/dcopy/sub/g") == "deep\n");
    CHECK(is_symlink(h.path + "/dcopy/rl"));
    REQUIRE(r.isolab({"cp", "web:/d", h.path + "/into"}).code == 0);
    CHECK(read_text(h.path + "/into/d/f") == "hi\n");
    // A trailing "/.": the contents, not the folder.
    fs::create_directory(h.path + "/contents");
    REQUIRE(r.isolab({"cp", "web:/d/.", h.path + "/contents"}).code == 0);
    CHECK(read_text(h.path + "/contents/f") == "hi\n");
    CHECK_FALSE(fs::exists(h.path + "/contents/d"));

    // `-`: a tar on stdout, named as Docker names it.
    auto tar = r.isolab({"cp", "web:/d", "-"});
    REQUIRE(tar.code == 0);
    auto names = tar_names_of(tar.out);
    CHECK(names.count("d/"));
    CHECK(names.count("d/sub/g"));
    CHECK(names.count("d/rl"));
    auto dot = r.isolab({"cp", "web:/d/.", "-"});
    REQUIRE(dot.code == 0);
    CHECK(tar_names_of(dot.out).count("./sub/g"));

    // In: a file, a folder, a tar from stdin into a folder.
    write_text(h.path + "/src/conf", "key=value\n");
    write_text(h.path + "/src/dir/a", "a\n");
    REQUIRE(r.isolab({"cp", h.path + "/src/conf", "web:/etc/"}).code == 0);
    CHECK(r.isolab({"exec", "web", "cat", "/etc/conf"}).out == "key=value\n");
    REQUIRE(r.isolab({"cp", h.path + "/src/dir", "web:/newdir"}).code == 0);
    CHECK(r.isolab({"exec", "web", "cat", "/newdir/a"}).out == "a\n");
    REQUIRE(r.isolab({"cp", h.path + "/src/.", "web:/tmp"}).code == 0);
    CHECK(r.isolab({"exec", "web", "cat", "/tmp/dir/a"}).out == "a\n");
    auto made = run_process({"/bin/tar", "-cf", "-", "-C", h.path + "/src", "conf", "dir"});
    REQUIRE(made.code == 0);
    REQUIRE(r.isolab({"cp", "-", "web:/home"}, 60000, made.out).code == 0);
    CHECK(r.isolab({"exec", "web", "cat", "/home/dir/a"}).out == "a\n");
    CHECK(r.isolab({"exec", "web", "cat", "/home/conf"}).out == "key=value\n");

    // Docker's refusals, word for word, each exit 1.
    auto missing = r.isolab({"cp", "web:/nope", h.path + "/x"});
    CHECK(missing.code == 1);
    CHECK(missing.err == "Error response from daemon: Could not find the file /nope in container web\n");
    auto not_dir = r.isolab({"cp", "web:/d/f/", h.path + "/x"});
    CHECK(not_dir.code == 1);
    CHECK(not_dir.err == "Error response from daemon: lstat /d/f/: not a directory\n");
    auto no_such_dir = r.isolab({"cp", "web:/d/f", h.path + "/nodir/"});
    CHECK(no_such_dir.code == 1);
    CHECK(no_such_dir.err == "no such directory\n");
    auto onto_file = r.isolab({"cp", "web:/d", h.path + "/f1"});
    CHECK(onto_file.code == 1);
    CHECK(onto_file.err == "cannot copy directory\n");
    auto no_parent = r.isolab({"cp", "web:/d/f", h.path + "/a/b/c"});
    CHECK(no_parent.code == 1);
    CHECK(no_parent.err == "invalid output path: directory \"" + h.path + "/a/b\" does not exist\n");
    auto in_missing = r.isolab({"cp", h.path + "/src/conf", "web:/nodir/x"});
    CHECK(in_missing.code == 1);
    CHECK(in_missing.err == "Error response from daemon: Could not find the file /nodir in container web\n");
    auto dir_onto_file = r.isolab({"cp", h.path + "/src/dir", "web:/etc/conf"});
    CHECK(dir_onto_file.code == 1);
    CHECK(dir_onto_file.err == "cannot copy directory\n");
    auto stdin_to_file = r.isolab({"cp", "-", "web:/etc/conf"}, 60000, made.out);
    CHECK(stdin_to_file.code == 1);
    CHECK(stdin_to_file.err == "destination \"web:/etc/conf\" must be a directory\n");
    auto no_source = r.isolab({"cp", h.path + "/none", "web:/tmp"});
    CHECK(no_source.code == 1);
    CHECK(no_source.err == "lstat " + h.path + "/none: no such file or directory\n");
    auto both = r.isolab({"cp", "web:/d/f", "web:/tmp"});
    CHECK(both.code == 1);
    CHECK(both.err == "copying between containers is not supported\n");
    auto neither = r.isolab({"cp", h.path + "/f1", h.path + "/f2"});
    CHECK(neither.code == 1);
    CHECK(neither.err == "must specify at least one container source\n");
    auto no_container = r.isolab({"cp", "ghost:/etc/hosts", h.path + "/x"});
    CHECK(no_container.code == 1);
    CHECK(no_container.err == "Error response from daemon: No such container: ghost\n");

    // Docker's events for the two directions.
    const std::string events = read_text(r.path() + "/events.jsonl");
    CHECK(events.find("\"archive-path\"") != std::string::npos);
    CHECK(events.find("\"extract-to-dir\"") != std::string::npos);
    auto listed = r.isolab({"events", "--since", "10m", "--until", "0s"});
    CHECK(listed.out.find("container archive-path ") != std::string::npos);
    CHECK(listed.out.find("container extract-to-dir ") != std::string::npos);
}

TEST_CASE("cp: the summary line on a terminal, and -q, as Docker 28") {
    if (!real_runtime_or_skip()) return;
    if (::access("/usr/bin/script", X_OK) != 0) {
        ISOLAB_SKIP("`script` (util-linux) is needed to give cp a terminal");
        return;
    }
    TempRoot r;
    HostDir h;
    run_with_tree(r, "term");
    // The words run under `script`, whose pseudo-terminal is cp's stdout and stderr.
    auto on_tty = [&](const std::vector<std::string>& words) {
        std::string line = r.bin;
        for (const auto& w : words) line += " " + w;
        return run_process({"/usr/bin/script", "-qec", line, "/dev/null"}, {"ISOLAB_ROOT=" + r.path(), "ISOLAB_LANG=en"});
    };
    // One 3-byte file is a 2048-byte tar: Docker's "2.05kB".
    auto out = on_tty({"cp", "term:/d/f", h.path + "/f"});
    CHECK(out.code == 0);
    CHECK(out.out == "Successfully copied 2.05kB to " + h.path + "/f\r\n");
    // d/, f (2 blocks), rl, sub/, sub/g (2) and the two end blocks: 4608 bytes.
    auto dir = on_tty({"cp", "term:/d", h.path + "/d"});
    CHECK(dir.out == "Successfully copied 4.61kB to " + h.path + "/d\r\n");
    auto in = on_tty({"cp", h.path + "/f", "term:/tmp/"});
    CHECK(in.out == "Successfully copied 2.05kB to term:/tmp/\r\n");
    auto quiet = on_tty({"cp", "-q", "term:/d/f", h.path + "/q"});
    CHECK(quiet.code == 0);
    CHECK(quiet.out.empty());
    CHECK(read_text(h.path + "/q") == "hi\n");
}

TEST_CASE("cp: a paused, a stopped and a never-started container, both ways; nothing stays mounted") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    HostDir h;
    write_text(h.path + "/note", "written from the host\n");
    run_with_tree(r, "pz");

    REQUIRE(r.isolab({"pause", "pz"}).code == 0);
    auto in_paused = r.isolab({"cp", h.path + "/note", "pz:/tmp/paused"});
    INFO(in_paused.err);
    CHECK(in_paused.code == 0);
    CHECK(r.isolab({"cp", "pz:/d/f", h.path + "/from-paused"}).code == 0);
    CHECK(read_text(h.path + "/from-paused") == "hi\n");
    CHECK(r.isolab({"inspect", "-f", "{{.State.Status}}", "pz"}).out == "paused\n");
    REQUIRE(r.isolab({"unpause", "pz"}).code == 0);
    CHECK(r.isolab({"exec", "pz", "cat", "/tmp/paused"}).out == "written from the host\n");

    REQUIRE(r.isolab({"stop", "-t", "1", "pz"}).code == 0);
    auto in_stopped = r.isolab({"cp", h.path + "/note", "pz:/tmp/stopped"});
    INFO(in_stopped.err);
    CHECK(in_stopped.code == 0);
    CHECK(r.isolab({"cp", "pz:/d/sub/g", h.path + "/from-stopped"}).code == 0);
    CHECK(read_text(h.path + "/from-stopped") == "deep\n");
    CHECK_FALSE(cp_mount_left());
    CHECK(r.isolab({"inspect", "-f", "{{.State.Status}}", "pz"}).out == "exited\n");
    // What went into the stopped container is in its writable layer, and so there when it runs.
    REQUIRE(r.isolab({"start", "pz"}).code == 0);
    REQUIRE(poll_until(10s, [&] { return r.isolab({"exec", "pz", "cat", "/tmp/stopped"}).out == "written from the host\n"; }));

    // Created, never started: copied in, then read by its own command.
    REQUIRE(r.isolab({"create", "--name", "fresh", "--network", "none", "busybox", "cat", "/etc/motd2"}).code == 0);
    auto in_created = r.isolab({"cp", h.path + "/note", "fresh:/etc/motd2"});
    INFO(in_created.err);
    CHECK(in_created.code == 0);
    auto started = r.isolab({"start", "-a", "fresh"});
    CHECK(started.out == "written from the host\n");
    CHECK_FALSE(cp_mount_left());
}

TEST_CASE("cp: -a keeps uid/gid; without it a copy in belongs to the container's root and a copy out to the caller") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    HostDir h;
    run_with_tree(r, "own");
    REQUIRE(r.isolab({"exec", "own", "sh", "-c", "chown 1234:5678 /d/f && chmod 4755 /d/f"}).code == 0);

    // Out: the caller's ids (root here) and no setuid bit without -a; the container's with it.
    REQUIRE(r.isolab({"cp", "own:/d/f", h.path + "/plain"}).code == 0);
    CHECK(owner_of(h.path + "/plain") == std::to_string(::getuid()) + ":" + std::to_string(::getgid()));
    struct stat st;
    REQUIRE(::stat((h.path + "/plain").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    REQUIRE(r.isolab({"cp", "-a", "own:/d/f", h.path + "/kept"}).code == 0);
    CHECK(owner_of(h.path + "/kept") == "1234:5678");
    REQUIRE(::stat((h.path + "/kept").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 04755);

    // In: the container's root without -a; the host file's ids with it.
    write_text(h.path + "/src/file", "x\n");
    REQUIRE(::chown((h.path + "/src/file").c_str(), 4321, 8765) == 0);
    REQUIRE(::chown((h.path + "/src").c_str(), 4321, 8765) == 0);
    REQUIRE(r.isolab({"cp", h.path + "/src", "own:/plain"}).code == 0);
    CHECK(r.isolab({"exec", "own", "stat", "-c", "%u:%g", "/plain", "/plain/file"}).out == "0:0\n0:0\n");
    REQUIRE(r.isolab({"cp", "--archive", h.path + "/src", "own:/kept"}).code == 0);
    CHECK(r.isolab({"exec", "own", "stat", "-c", "%u:%g", "/kept", "/kept/file"}).out == "4321:8765\n4321:8765\n");
}

TEST_CASE("cp: -L follows a symlink in SRC_PATH inside the container; without it the link is copied") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    HostDir h;
    run_with_tree(r, "links");
    REQUIRE(r.isolab({"exec", "links", "sh", "-c", "echo container-only > /target && ln -s /target /d/abs"}).code == 0);

    REQUIRE(r.isolab({"cp", "links:/d/abs", h.path + "/link"}).code == 0);
    CHECK(is_symlink(h.path + "/link"));
    CHECK(fs::read_symlink(h.path + "/link") == "/target");
    REQUIRE(r.isolab({"cp", "-L", "links:/d/abs", h.path + "/followed"}).code == 0);
    CHECK_FALSE(is_symlink(h.path + "/followed"));
    CHECK(read_text(h.path + "/followed") == "container-only\n");
    // Into a folder, the entry keeps the link's name; a relative link too.
    fs::create_directory(h.path + "/dir");
    REQUIRE(r.isolab({"cp", "--follow-link", "links:/d/rl", h.path + "/dir"}).code == 0);
    CHECK(read_text(h.path + "/dir/rl") == "hi\n");
    // A tar of a followed link names the link, holds the target's bytes.
    auto tar = r.isolab({"cp", "-L", "links:/d/abs", "-"});
    REQUIRE(tar.code == 0);
    CHECK(tar_names_of(tar.out) == std::set<std::string>{"abs"});
}

TEST_CASE("cp: volumes and bind mounts where the container sees them, running and stopped; read-only ones refused") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    HostDir h;
    write_text(h.path + "/bind/b", "bound\n");
    write_text(h.path + "/conf", "cfg\n");
    run_with_tree(r, "vol", {"-v", "data:/data", "-v", h.path + "/bind:/bnd", "-v", "frozen:/ro:ro"});

    REQUIRE(r.isolab({"cp", h.path + "/conf", "vol:/data/"}).code == 0);
    CHECK(read_text(r.path() + "/volumes/data/_data/conf") == "cfg\n");
    CHECK(r.isolab({"exec", "vol", "cat", "/data/conf"}).out == "cfg\n");
    REQUIRE(r.isolab({"cp", "vol:/bnd/b", h.path + "/b-out"}).code == 0);
    CHECK(read_text(h.path + "/b-out") == "bound\n");
    auto ro = r.isolab({"cp", h.path + "/conf", "vol:/ro/"});
    CHECK(ro.code == 1);
    CHECK(ro.err == "Error response from daemon: mounted volume is marked read-only\n");

    REQUIRE(r.isolab({"stop", "-t", "1", "vol"}).code == 0);
    write_text(h.path + "/later", "while stopped\n");
    auto in_stopped = r.isolab({"cp", h.path + "/later", "vol:/data/"});
    INFO(in_stopped.err);
    REQUIRE(in_stopped.code == 0);
    CHECK(read_text(r.path() + "/volumes/data/_data/later") == "while stopped\n");
    // Not in the writable layer below the mount point: in the volume, where the container sees it.
    const std::string id = r.id_of("vol");
    CHECK_FALSE(fs::exists(r.path() + "/containers/" + id + "/upper/data/later"));
    REQUIRE(r.isolab({"cp", "vol:/bnd/b", h.path + "/b-stopped"}).code == 0);
    CHECK(read_text(h.path + "/b-stopped") == "bound\n");
    CHECK(r.isolab({"cp", h.path + "/conf", "vol:/ro/"}).code == 1);
    CHECK_FALSE(cp_mount_left());

    // A read-only root refuses, except in a writable volume.
    REQUIRE(r.isolab({"run", "-d", "--name", "rofs", "--network", "none", "--read-only", "-v", "rw:/rw", "busybox",
                      "sleep", "1000"})
                .code == 0);
    auto rofs = r.isolab({"cp", h.path + "/conf", "rofs:/etc/"});
    CHECK(rofs.code == 1);
    CHECK(rofs.err == "Error response from daemon: container rootfs is marked read-only\n");
    CHECK(r.isolab({"cp", h.path + "/conf", "rofs:/rw/"}).code == 0);
}

TEST_CASE("cp: a copied root (ISOLAB_ROOTFS=copy) and the rootless backend, both ways") {
    if (!real_runtime_or_skip()) return;
    {
        TempRoot r;
        HostDir h;
        write_text(h.path + "/in", "into a copied root\n");
        auto run = run_process({r.bin, "--root", r.path(), "run", "-d", "--name", "cc", "--network", "none", "-v",
                                "cv:/data", "busybox", "sleep", "1000"},
                               {"ISOLAB_ROOTFS=copy"});
        REQUIRE(run.code == 0);
        REQUIRE(r.isolab({"cp", h.path + "/in", "cc:/etc/in"}).code == 0);
        CHECK(r.isolab({"exec", "cc", "cat", "/etc/in"}).out == "into a copied root\n");
        REQUIRE(r.isolab({"stop", "-t", "1", "cc"}).code == 0);
        REQUIRE(r.isolab({"cp", "cc:/etc/in", h.path + "/out"}).code == 0);
        CHECK(read_text(h.path + "/out") == "into a copied root\n");
        REQUIRE(r.isolab({"cp", h.path + "/in", "cc:/data/"}).code == 0);
        CHECK(read_text(r.path() + "/volumes/cv/_data/in") == "into a copied root\n");
        CHECK_FALSE(cp_mount_left());
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
    const std::string host = r.path() + "/host";
    REQUIRE(::mkdir(host.c_str(), 0755) == 0);
    REQUIRE(::chown(host.c_str(), 65534, 65534) == 0);
    write_text(host + "/in", "rootless\n");
    REQUIRE(::chown((host + "/in").c_str(), 65534, 65534) == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "rl", "--network", "none", "busybox", "sleep", "1000"}).code == 0);
    auto in = r.isolab({"cp", host + "/in", "rl:/tmp/in"});
    INFO(in.err);
    CHECK(in.code == 0);
    CHECK(r.isolab({"exec", "rl", "cat", "/tmp/in"}).out == "rootless\n");
    CHECK(r.isolab({"exec", "rl", "stat", "-c", "%u", "/tmp/in"}).out == "0\n");  // the container's root
    REQUIRE(r.isolab({"stop", "-t", "1", "rl"}).code == 0);
    auto out = r.isolab({"cp", "rl:/tmp/in", host + "/out"});
    INFO(out.err);
    CHECK(out.code == 0);
    CHECK(read_text(host + "/out") == "rootless\n");
    auto in_stopped = r.isolab({"cp", host + "/in", "rl:/tmp/again"});
    INFO(in_stopped.err);
    CHECK(in_stopped.code == 0);
    CHECK_FALSE(cp_mount_left());
}

TEST_CASE("cp: a simulated container refuses in one line") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    auto created = run_process({r.bin, "--root", r.path(), "create", "--name", "sim", "busybox", "true"},
                               {"ISOLAB_BACKEND=simulated"});
    if (created.code != 0) {
        ISOLAB_SKIP("this build cannot force the simulated backend with ISOLAB_BACKEND");
        return;
    }
    auto cp = r.isolab({"cp", "sim:/etc/hosts", r.path() + "/x"});
    CHECK(cp.code == 1);
    CHECK(cp.err.find("simulated backend") != std::string::npos);
    CHECK(std::count(cp.err.begin(), cp.err.end(), '\n') == 1);
}
