// Issue 15, item 7: `isolab cp` never reaches the host through the container (CVE-2018-15664, the
// docker cp symlink race; CVE-2019-14271, docker cp loading the container's libraries). Each case
// builds its hostile image or container in the test and asserts that a host file or directory is
// untouched: a destination directory that is a symlink to a host path, a source that is a symlink
// to a host file, a tar whose entries climb out or go through an absolute symlink, a container
// swapping a symlink for the target directory in a loop while cp runs, and a container whose
// /bin/tar and libnss would leave a marker on the host if cp ever ran or loaded them.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "security.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

// A host directory the attacker aims at: it must stay empty, or keep its files unchanged.
struct Victim {
    std::string path;
    explicit Victim(const std::string& name) : path("/tmp/isolab-cp-victim-" + name + "-" + std::to_string(::getpid())) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Victim() { fs::remove_all(path); }
    bool empty() const { return fs::is_empty(path); }
};

struct HostDir {
    std::string path;
    HostDir() {
        char tmpl[] = "/tmp/isl-cp-sec.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~HostDir() { fs::remove_all(path); }
};

// An image of busybox plus what ADD puts into its root (FROM scratch + COPY): built in the test.
template <typename F>
void build_image(const TempRoot& r, const std::string& tag, F add) {
    const std::string ctx = r.path() + "/ctx-" + tag;
    fs::remove_all(ctx);
    fs::create_directories(ctx + "/rootfs/bin");
    fs::create_directories(ctx + "/rootfs/tmp");
    fs::copy_file("/bin/busybox", ctx + "/rootfs/bin/busybox");
    for (const char* applet : {"sh", "cat", "echo", "ls", "ln", "rm", "mkdir", "sleep", "touch", "true", "mv", "test"})
        fs::create_symlink("busybox", ctx + "/rootfs/bin/" + applet);
    add(ctx + "/rootfs");
    std::ofstream(ctx + "/Dockerfile") << "FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n";
    auto b = r.isolab({"build", "-q", "-t", tag, ctx});
    REQUIRE_MESSAGE(b.code == 0, b.err);
}

void run_detached(const TempRoot& r, const std::string& name, const std::string& image, const std::string& script) {
    auto run = r.isolab({"run", "-d", "--network", "none", "--name", name, image, "sh", "-c", script});
    REQUIRE_MESSAGE(run.code == 0, run.err);
}

}  // namespace

TEST_CASE("security cp: into a directory that is a symlink to a host path, the copy lands inside the container") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("into");
    HostDir h;
    const std::string token = "cp-into-" + std::to_string(::getpid());
    write_text(h.path + "/" + token, "from the host side\n");
    // /evil -> /etc (the host's, were it followed outside), /evil2 -> the victim's absolute path,
    // /evil3 -> the victim through enough "..", /etc2 -> /etc relatively.
    build_image(r, "cpinto", [&](const std::string& root) {
        fs::create_directories(root + "/etc");
        fs::create_symlink("/etc", root + "/evil");
        fs::create_symlink(v.path, root + "/evil2");
        fs::create_symlink("../../../../../../.." + v.path, root + "/evil3");
    });
    for (const bool running : {true, false}) {
        CAPTURE(running);
        const std::string name = running ? "live" : "stopped";
        if (running) run_detached(r, name, "cpinto", "sleep 1000");
        else REQUIRE(r.isolab({"create", "--network", "none", "--name", name, "cpinto", "sleep", "1000"}).code == 0);

        auto etc = r.isolab({"cp", h.path + "/" + token, name + ":/evil/"});
        INFO(etc.err);
        CHECK(etc.code == 0);  // the container's own /etc
        CHECK_FALSE(fs::exists("/etc/" + token));
        for (const char* link : {"/evil2/", "/evil3/", "/evil2/sub/x"}) {
            CAPTURE(link);
            auto c = r.isolab({"cp", h.path + "/" + token, name + ":" + link});
            CHECK(c.code == 1);  // the victim's path does not exist inside the container
            CHECK(v.empty());
        }
        // A folder copied onto the link is refused the same way; the victim stays empty.
        fs::create_directories(h.path + "/tree/sub");
        write_text(h.path + "/tree/sub/y", "y\n");
        r.isolab({"cp", h.path + "/tree", name + ":/evil2"});
        CHECK(v.empty());
        if (!running) REQUIRE(r.isolab({"start", name}).code == 0);
        CHECK(r.isolab({"exec", name, "cat", "/etc/" + token}).out == "from the host side\n");
    }
    CHECK_FALSE(fs::exists("/etc/" + token));
    CHECK(v.empty());
}

TEST_CASE("security cp: a source that is a symlink to a host file is read inside the container") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("secret");
    HostDir h;
    write_text(v.path + "/secret", "HOST SECRET\n");
    // The container's own file at the same path as the host's secret, and links to it.
    build_image(r, "cpleak", [&](const std::string& root) {
        fs::create_directories(root + v.path);
        std::ofstream(root + v.path + "/secret") << "container file\n";
        fs::create_symlink(v.path + "/secret", root + "/leak");
        fs::create_symlink("../../../../../.." + v.path + "/secret", root + "/leak2");
        fs::create_symlink(v.path, root + "/leakdir");
    });
    run_detached(r, "leaky", "cpleak", "sleep 1000");
    REQUIRE(r.isolab({"create", "--network", "none", "--name", "leaky-stopped", "cpleak", "true"}).code == 0);
    for (const std::string name : {"leaky", "leaky-stopped"}) {
        CAPTURE(name);
        for (const std::string src : {"/leak", "/leak2", "/leakdir/secret", "/leakdir/../leakdir/secret"}) {
            CAPTURE(src);
            const std::string out = h.path + "/out";
            fs::remove_all(out);
            auto c = r.isolab({"cp", "-L", name + ":" + src, out});
            INFO(c.err);
            REQUIRE(c.code == 0);
            CHECK(read_text(out) == "container file\n");
        }
        // Without -L the link itself comes out, as text; nothing of the host's file in it.
        fs::remove_all(h.path + "/link");
        REQUIRE(r.isolab({"cp", name + ":/leak", h.path + "/link"}).code == 0);
        CHECK(fs::is_symlink(h.path + "/link"));
        auto tar = r.isolab({"cp", name + ":/leakdir/.", "-"});
        CHECK(tar.out.find("HOST SECRET") == std::string::npos);
        CHECK(tar.out.find("container file") != std::string::npos);
    }
    CHECK(read_text(v.path + "/secret") == "HOST SECRET\n");
}

TEST_CASE("security cp: a tar whose entries climb out or go through an absolute symlink writes nothing on the host") {
    if (!can_attack()) return;
    TempRoot r;
    Victim v("tar");
    HostDir h;
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "tarred", "busybox", "sleep", "1000"}).code == 0);
    // Crafted with GNU tar: -P keeps "../" and absolute names, --transform renames as it stores.
    fs::create_directories(h.path + "/in");
    write_text(h.path + "/in/payload", "pwned\n");
    fs::create_symlink(v.path, h.path + "/in/abs");
    fs::create_symlink("../../../../../../.." + v.path, h.path + "/in/rel");
    fs::create_hard_link(h.path + "/in/payload", h.path + "/in/hl");
    const std::string hostname_before = read_text("/etc/hostname");
    struct Attack {
        std::string what;
        std::vector<std::string> tar_args;
    };
    const std::vector<Attack> attacks = {
        {"../ climbing", {"--transform", "s|^payload|../../../../../../.." + v.path + "/climbed|", "payload"}},
        {"absolute symlink, then a file through it", {"--transform", "s|^payload$|abs/through|", "abs", "payload"}},
        {"relative symlink out, then a file through it", {"--transform", "s|^payload$|rel/through|", "rel", "payload"}},
        // Only the hard link's target is renamed (flags: not regular names, not symlink targets).
        {"a hard link to a host file", {"--transform", "s|^payload$|../../../../../../../etc/hostname|RS", "payload", "hl"}},
    };
    for (const auto& a : attacks) {
        CAPTURE(a.what);
        std::vector<std::string> argv = {"/bin/tar", "-P", "-cf", "-", "-C", h.path + "/in"};
        argv.insert(argv.end(), a.tar_args.begin(), a.tar_args.end());
        auto made = run_process(argv);
        REQUIRE(made.code == 0);
        for (const std::string dest : {"tarred:/tmp", "tarred:/"}) {
            auto c = r.isolab({"cp", "-", dest}, 60000, made.out);
            CHECK(c.code == 1);
            CHECK(c.err.rfind("Error response from daemon: ", 0) == 0);
            CHECK(v.empty());
        }
    }
    CHECK(read_text("/etc/hostname") == hostname_before);
    // The links themselves were made, as links, inside the container.
    CHECK(r.isolab({"exec", "tarred", "readlink", "/tmp/abs"}).out == v.path + "\n");
    CHECK(v.empty());

    // Copied out to the host, a container's tree with such links keeps them as links: a later
    // file of the same copy is never written through them.
    REQUIRE(r.isolab({"exec", "tarred", "sh", "-c", "mkdir -p /o && ln -s " + v.path + " /o/abs && echo x > /o/file"}).code == 0);
    REQUIRE(r.isolab({"cp", "tarred:/o", h.path + "/o"}).code == 0);
    CHECK(fs::is_symlink(h.path + "/o/abs"));
    CHECK(v.empty());
}

TEST_CASE("security cp: a container swapping a symlink for the target directory in a loop never makes cp reach the host") {
    if (!can_attack()) return;
    TempRoot r;
    Victim in_v("race-in");
    Victim out_v("race-out");
    HostDir h;
    write_text(out_v.path + "/secret", "HOST\n");
    write_text(h.path + "/payload", "pwned\n");
    // /w/target is, in turns, a real directory (with a container `secret`) and a symlink to one
    // of the victims' host paths, replaced as fast as the shell can (CVE-2018-15664).
    // (the secret is renamed into place whole: a copy never sees it half-written)
    const std::string dir = "mkdir /w/target && echo container > /w/s && mv /w/s /w/target/secret; ";
    const std::string loop = "mkdir -p /w && while :; do rm -rf /w/target; " + dir + "rm -rf /w/target; ln -s " + in_v.path +
                             " /w/target; rm -f /w/target; " + dir + "rm -rf /w/target; ln -s " + out_v.path +
                             " /w/target; rm -f /w/target; done";
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "racer", "busybox", "sh", "-c", loop}).code == 0);
    int in_ok = 0, out_ok = 0;
    for (int i = 0; i < 150; ++i) {
        if (r.isolab({"cp", h.path + "/payload", "racer:/w/target/"}).code == 0) ++in_ok;
        const std::string out = h.path + "/got";
        fs::remove_all(out);
        if (r.isolab({"cp", "racer:/w/target/secret", out}).code == 0) {
            ++out_ok;
            CHECK(read_text(out) == "container\n");
        }
        auto tar = r.isolab({"cp", "racer:/w/target/.", "-"});
        CHECK(tar.out.find("HOST") == std::string::npos);
    }
    MESSAGE("copies that found the directory: in " << in_ok << ", out " << out_ok << " of 150");
    CHECK(in_v.empty());
    CHECK(read_text(out_v.path + "/secret") == "HOST\n");
    CHECK(std::distance(fs::directory_iterator(out_v.path), fs::directory_iterator{}) == 1);
    CHECK(in_ok + out_ok > 0);  // the race was run against a directory that was there at times
}

TEST_CASE("security cp: cp runs nothing from the container and loads none of its libraries") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir h;
    const std::string marker = h.path + "/marker";
    // A /bin/tar and a /bin/getent that would mark the host if cp ran them (Docker's cp once ran
    // the daemon's own binary chrooted, and looked users up through the container's libnss).
    const std::string script = "#!/bin/sh\necho ran > " + marker + "\n";
    std::string lib;
    if (::access("/usr/bin/cc", X_OK) == 0) {
        // A libnss_files whose constructor marks the host, and a passwd that names a user, so a
        // lookup of `--user app` (cp -a, CVE-2019-14271) would load it.
        const std::string src = h.path + "/nss.c";
        std::ofstream(src) << "#include <stdio.h>\n__attribute__((constructor)) static void mark(void) {"
                              " FILE* f = fopen(\"" << marker << "\", \"w\"); if (f) { fputs(\"loaded\", f); fclose(f); } }\n";
        lib = h.path + "/libnss_files.so.2";
        REQUIRE(run_process({"/usr/bin/cc", "-shared", "-fPIC", "-o", lib, src}).code == 0);
    }
    build_image(r, "cptrap", [&](const std::string& root) {
        for (const char* bin : {"/bin/tar", "/bin/getent", "/bin/cp"}) {
            std::ofstream(root + bin) << script;
            fs::permissions(root + bin, fs::perms(0755));
        }
        fs::create_directories(root + "/etc");
        std::ofstream(root + "/etc/passwd") << "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
        std::ofstream(root + "/etc/group") << "root:x:0:\napp:x:1000:\n";
        std::ofstream(root + "/etc/nsswitch.conf") << "passwd: files\ngroup: files\n";
        for (const char* dir : {"/lib", "/lib/x86_64-linux-gnu", "/lib64", "/usr/lib/x86_64-linux-gnu"}) {
            fs::create_directories(root + dir);
            if (!lib.empty()) fs::copy_file(lib, root + dir + "/libnss_files.so.2");
        }
    });
    // The traps are live: run on the host, each would leave the marker.
    const std::string ctx_tar = r.path() + "/ctx-cptrap/rootfs/bin/tar";
    REQUIRE(run_process({"/bin/sh", ctx_tar}).code == 0);
    REQUIRE(fs::exists(marker));
    fs::remove(marker);
    if (!lib.empty()) {
        REQUIRE(run_process({"/bin/true"}, {"LD_PRELOAD=" + lib}).code == 0);
        REQUIRE(fs::exists(marker));
        fs::remove(marker);
    }

    write_text(h.path + "/f", "f\n");
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--user", "app", "--name", "trap", "cptrap", "sleep", "1000"}).code == 0);
    REQUIRE(r.isolab({"create", "--network", "none", "--user", "app", "--name", "trap-stopped", "cptrap", "true"}).code == 0);
    for (const std::string name : {"trap", "trap-stopped"}) {
        CAPTURE(name);
        for (const std::vector<std::string>& words :
             {std::vector<std::string>{"cp", h.path + "/f", name + ":/tmp/"},
              {"cp", "-a", h.path + "/f", name + ":/tmp/a"},
              {"cp", name + ":/etc/passwd", h.path + "/p-" + name},
              {"cp", "-a", name + ":/etc", h.path + "/etc-" + name}}) {
            auto c = r.isolab(words);
            CHECK_MESSAGE(c.code == 0, c.err);
        }
        auto tar = r.isolab({"cp", name + ":/bin", "-"});
        CHECK(tar.code == 0);
        REQUIRE(r.isolab({"cp", std::string("-"), name + ":/tmp"}, 60000, tar.out).code == 0);
    }
    CHECK_FALSE(fs::exists(marker));
}
