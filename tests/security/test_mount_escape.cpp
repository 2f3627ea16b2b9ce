// Issue 15, item 7: every path IsoLab resolves inside a container for a mount stays inside it.
// Each case builds a hostile image in the test and asserts that a host file or directory is
// untouched: a mount target that is a symlink to a host path or through /proc/self (CVE-2021-30465),
// an /etc/hosts that is a symlink to a host file, a volume seeded from an image whose files are
// symlinks to host files, a symlink swapped in a loop by another container sharing the volume
// while mounts are made, and a copied root whose lower layer plants a symlink its upper layer
// writes through.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "security.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

// A host directory the attacker aims at; it must stay empty (or keep its one file unchanged).
struct Victim {
    std::string path;
    explicit Victim(const std::string& name) : path("/tmp/isolab-victim-" + name + "-" + std::to_string(::getpid())) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Victim() { fs::remove_all(path); }
    bool untouched() const { return fs::is_empty(path); }
};

// An image made of busybox and the entries ADD_ENTRIES puts into its root (FROM scratch + COPY).
template <typename F>
void build_image(const TempRoot& r, const std::string& tag, F add_entries) {
    const std::string ctx = r.path() + "/ctx-" + tag;
    fs::remove_all(ctx);
    fs::create_directories(ctx + "/rootfs/bin");
    fs::copy_file("/bin/busybox", ctx + "/rootfs/bin/busybox");
    for (const char* applet : {"sh", "cat", "echo", "ls", "ln", "rm", "mkdir", "sleep", "touch", "true", "mv"})
        fs::create_symlink("busybox", ctx + "/rootfs/bin/" + applet);
    add_entries(ctx + "/rootfs");
    std::ofstream(ctx + "/Dockerfile") << "FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n";
    auto b = r.isolab({"build", "-q", "-t", tag, ctx});
    REQUIRE_MESSAGE(b.code == 0, b.err);
}

}  // namespace

TEST_CASE("security mounts: a mount target that is a symlink to a host directory is made inside the container") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("target");
    for (std::string link : {v.path, "../../../../../.." + v.path}) {
        CAPTURE(link);
        build_image(r, "tlink", [&](const std::string& root) { fs::create_symlink(link, root + "/data"); });
        // A volume and a bind on the symlinked target; the container writes through it.
        auto run = r.isolab({"run", "--rm", "--network", "none", "-v", "vol:/data", "tlink", "sh", "-c", "echo pwned > /data/x"});
        CHECK(run.code == 0);
        CHECK(v.untouched());
        CHECK(read_text(r.path() + "/volumes/vol/_data/x") == "pwned\n");  // it went into the volume
        Victim src("bindsrc");
        write_text(src.path + "/f", "bound\n");
        auto bind = r.isolab({"run", "--rm", "--network", "none", "-v", src.path + ":/data", "tlink", "cat", "/data/f"});
        CHECK(bind.out == "bound\n");
        CHECK(v.untouched());
        // A tmpfs on it: the host directory gets no tmpfs mounted over it.
        auto tmp = r.isolab({"run", "--rm", "--network", "none", "--tmpfs", "/data", "tlink", "touch", "/data/y"});
        CHECK(tmp.code == 0);
        CHECK(v.untouched());
        CHECK_FALSE(mounts_mention(v.path));
    }
}

TEST_CASE("security mounts: a mount target through /proc/self/root is refused or kept inside, never the host's directory") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("procself");
    build_image(r, "plink", [&](const std::string& root) {
        fs::create_symlink("/proc/self/root" + v.path, root + "/data");
        fs::create_symlink("/proc/self/cwd", root + "/cwd");
    });
    for (const std::string& target : {std::string("/data"), std::string("/cwd")}) {
        CAPTURE(target);
        auto run = r.isolab({"run", "--rm", "--network", "none", "-v", "pvol:" + target, "plink", "sh", "-c",
                             "echo pwned > " + target + "/x"});
        // RESOLVE_NO_MAGICLINKS: a /proc magic link is not followed; the start fails, or the
        // write lands inside the container.
        if (run.code != 0) CHECK(run.err.find(target) != std::string::npos);
        CHECK(v.untouched());
        CHECK_FALSE(mounts_mention(v.path));
    }
}

TEST_CASE("security mounts: an image whose /etc/hosts, /etc/resolv.conf and /etc/hostname are symlinks to host files") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("hosts");
    const std::string victims[] = {v.path + "/hosts", v.path + "/resolv.conf", v.path + "/hostname"};
    for (const auto& f : victims) write_text(f, "host's own\n");
    build_image(r, "hlink", [&](const std::string& root) {
        fs::create_directories(root + "/etc");
        fs::create_symlink(victims[0], root + "/etc/hosts");
        fs::create_symlink(victims[1], root + "/etc/resolv.conf");
        fs::create_symlink(victims[2], root + "/etc/hostname");
    });
    auto run = r.isolab({"run", "--rm", "--hostname", "inside", "hlink", "sh", "-c",
                         "cat /etc/hostname; echo pwned > /etc/hosts; echo pwned > /etc/resolv.conf; echo pwned > /etc/hostname"});
    CHECK(run.code == 0);
    CHECK(run.out == "inside\n");
    for (const auto& f : victims) CHECK(read_text(f) == "host's own\n");
    CHECK_FALSE(mounts_mention(v.path));
}

TEST_CASE("security mounts: seeding a volume copies an image's symlinks as symlinks, never the host files they name") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("seed");
    write_text(v.path + "/secret", "host secret\n");
    build_image(r, "slink", [&](const std::string& root) {
        fs::create_directories(root + "/seed/sub");
        fs::create_symlink(v.path + "/secret", root + "/seed/secret");
        fs::create_symlink(v.path, root + "/seed/dir");
        write_text(root + "/seed/sub/plain", "plain\n");
    });
    REQUIRE(r.isolab({"run", "--rm", "--network", "none", "-v", "seeded:/seed", "slink", "sh", "-c",
                      "echo pwned > /seed/dir/new 2>/dev/null; true"})
                .code == 0);
    const std::string data = r.path() + "/volumes/seeded/_data";
    CHECK(fs::is_symlink(data + "/secret"));
    CHECK(fs::read_symlink(data + "/secret") == v.path + "/secret");
    CHECK(fs::is_symlink(data + "/dir"));
    CHECK(read_text(data + "/sub/plain") == "plain\n");
    CHECK(read_text(v.path + "/secret") == "host secret\n");
    CHECK_FALSE(fs::exists(v.path + "/new"));
}

TEST_CASE("security mounts: a container swapping a symlink in a shared volume cannot aim another container's mount at the host") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("race");
    Victim src("racesrc");
    write_text(src.path + "/f", "bound\n");
    // The attacker shares volume `shared` and flips /v/t between a directory and a symlink to the
    // victim as fast as it can.
    REQUIRE(r.isolab({"run", "-d", "--name", "flipper", "--network", "none", "-v", "shared:/v", "busybox", "sh", "-c",
                      "while true; do rm -rf /v/t; ln -s " + v.path + " /v/t; rm -f /v/t; mkdir /v/t; done"})
                .code == 0);
    // The victim container mounts a bind at /v/t, inside the shared volume, again and again.
    int started = 0;
    for (int i = 0; i < 25; ++i) {
        auto run = r.isolab({"run", "--rm", "--network", "none", "-v", "shared:/v", "-v", src.path + ":/v/t", "busybox", "sh",
                             "-c", "cat /v/t/f && echo pwned > /v/t/x"});
        if (run.code == 0) ++started;
        CHECK(v.untouched());
        CHECK_FALSE(mounts_mention(v.path));
    }
    MESSAGE(started << " of 25 starts raced through");
    CHECK(r.isolab({"rm", "-f", "flipper"}).code == 0);
    CHECK(v.untouched());
}

TEST_CASE("security mounts: a copied root never follows a symlink a lower layer planted (ISOLAB_ROOTFS=copy)") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("copylayer");
    const std::string ctx = r.path() + "/ctx-layers";
    fs::create_directories(ctx);
    // Layer 1: /d is a symlink to the victim. Layer 2: /d is a directory with a file in it.
    write_text(ctx + "/Dockerfile", "FROM busybox\nRUN ln -s " + v.path + " /d\nRUN rm /d && mkdir /d && echo layered > /d/f\n");
    auto b = r.isolab({"build", "-q", "-t", "layered", ctx});
    REQUIRE_MESSAGE(b.code == 0, b.err);
    auto run = run_process({r.bin, "--root", r.path(), "run", "--rm", "--network", "none", "layered", "cat", "/d/f"},
                           {"ISOLAB_ROOTFS=copy"});
    CHECK(run.code == 0);
    CHECK(run.out == "layered\n");
    CHECK(v.untouched());
}

TEST_CASE("security mounts: a working directory through /proc/self/fd never lands outside the container (CVE-2024-21626)") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("workdir");
    write_text(v.path + "/marker", "host marker\n");
    const std::string climb = "../../../../../../../../.." + v.path + "/marker";
    REQUIRE(r.isolab({"run", "-d", "--name", "wd", "--network", "none", "busybox", "sleep", "300"}).code == 0);
    for (int fd = 3; fd <= 12; ++fd) {
        CAPTURE(fd);
        const std::string dir = "/proc/self/fd/" + std::to_string(fd);
        // run -w: the init's own descriptors are all gone (or its own) before it enters the directory.
        auto run = r.isolab({"run", "--rm", "--network", "none", "-w", dir, "busybox", "cat", climb});
        CHECK(run.out.find("host marker") == std::string::npos);
        // exec -w: the same for the process exec starts in a running container.
        auto ex = r.isolab({"exec", "-w", dir, "wd", "cat", climb});
        CHECK(ex.out.find("host marker") == std::string::npos);
    }
    CHECK(read_text(v.path + "/marker") == "host marker\n");
}
