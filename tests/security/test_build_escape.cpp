// A Dockerfile is code from someone else: it must neither write the host (a COPY destination
// climbing out of the staged layer, a symlink an earlier source planted there, an ADD tar's `../`
// or symlink-then-write entries) nor read it (a symlink in the build context pointing at a host
// directory, reached by path, by directory, by wildcard and with --chown). Each case runs the real
// `isolab build` as root and then looks at the host and at every byte of the image store.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "security.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

// A directory of the "host" that a Dockerfile has no business touching; removed at the end.
struct HostDir {
    std::string path;
    HostDir() {
        char tmpl[] = "/tmp/isl-host.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~HostDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string unique_token(const std::string& prefix) {
    std::ifstream in("/proc/sys/kernel/random/uuid");
    std::string u;
    in >> u;
    return prefix + u.substr(0, 8);
}

// Every regular file under DIR (symlinks not followed) whose content holds NEEDLE.
std::vector<std::string> files_containing(const std::string& dir, const std::string& needle) {
    std::vector<std::string> hits;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
        std::ifstream f(it->path(), std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        if (ss.str().find(needle) != std::string::npos) hits.push_back(it->path().string());
    }
    return hits;
}

}  // namespace

TEST_CASE("security build: COPY to /../../x writes /x inside the image, never the host; a planted symlink stays inside") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string name = unique_token("isolab-escape-");
    const std::string payload = unique_token("payload-");
    const std::string host_file = "/tmp/" + name;
    std::string ctx = host.path + "/ctx";
    write_text(ctx + "/f", payload + "\n");
    // Far more `..` than the staging folder is deep: without the fix this is the host's /tmp.
    write_text(ctx + "/Dockerfile", "FROM busybox\nCOPY f /../../../../../../../../../../tmp/" + name + "\n");
    auto b = r.isolab({"build", "-t", "escape:1", ctx});
    INFO(b.out << b.err);
    CHECK(b.code == 0);
    bool host_written = fs::exists(host_file);
    if (host_written) fs::remove(host_file);
    CHECK_FALSE(host_written);
    auto in_image = r.isolab({"run", "--rm", "escape:1", "cat", "/tmp/" + name});
    CHECK(in_image.code == 0);
    CHECK(in_image.out == payload + "\n");

    // One COPY, two sources: `d/` plants `escape -> HOST/target` in the layer, `e/` then writes
    // `escape/x`. The link is kept in the image, and the write lands inside the layer, where the
    // link points when the layer is the root (`HOST/target/x` inside the image).
    fs::create_directories(host.path + "/target");
    write_text(ctx + "/d/keep", "kept\n");
    fs::create_directory_symlink(host.path + "/target", ctx + "/d/escape");
    write_text(ctx + "/e/escape/x", payload + "\n");
    write_text(ctx + "/Dockerfile", "FROM busybox\nCOPY d/ e/ /\n");
    auto planted = r.isolab({"build", "-t", "escape:2", ctx});
    INFO(planted.out << planted.err);
    CHECK(planted.code == 0);
    CHECK_FALSE(fs::exists(host.path + "/target/x"));
    CHECK(fs::is_empty(host.path + "/target"));
    CHECK(r.isolab({"run", "--rm", "escape:2", "cat", host.path + "/target/x"}).out == payload + "\n");
    CHECK(r.isolab({"run", "--rm", "escape:2", "readlink", "/escape"}).out == host.path + "/target\n");
}

TEST_CASE("security build: ADD of a tar with ../ names, absolute names or symlink-then-write entries leaves the host untouched") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string payload = unique_token("tarpayload-");
    std::string ctx = host.path + "/ctx";
    std::string work = host.path + "/work";
    fs::create_directories(host.path + "/target");
    fs::create_directories(ctx);
    // 1. A `../../..` name (GNU tar keeps it with -P): from deep inside WORK up to `/`, then down
    //    to HOST/target. tar needs the file there while it packs it; it goes before the build.
    write_text(host.path + "/target/dotdot.txt", payload + "\n");
    const std::string deep = work + "/a/b/c/d/e/f/g/h/i/j";
    fs::create_directories(deep);
    REQUIRE(run_process({"/bin/tar", "-C", deep, "-cPf", ctx + "/dotdot.tar",
                         "../../../../../../../../../../../../../../.." + host.path + "/target/dotdot.txt"})
                .code == 0);
    fs::remove(host.path + "/target/dotdot.txt");
    // 2. An absolute name.
    write_text(host.path + "/target-src/abs.txt", payload + "\n");
    REQUIRE(run_process({"/bin/tar", "-cPf", ctx + "/abs.tar", host.path + "/target-src/abs.txt"}).code == 0);
    fs::remove_all(host.path + "/target-src");
    // 3. `data -> HOST/target` then `data/link.txt` in the same tar.
    fs::create_directories(work + "/t1");
    fs::create_directory_symlink(host.path + "/target", work + "/t1/data");
    write_text(work + "/t2/data/link.txt", payload + "\n");
    REQUIRE(run_process({"/bin/tar", "-C", work + "/t1", "-cf", ctx + "/link.tar", "data"}).code == 0);
    REQUIRE(run_process({"/bin/tar", "-C", work + "/t2", "-rf", ctx + "/link.tar", "data/link.txt"}).code == 0);
    // 4. The same split over two tars of one ADD: each is clean alone, the second writes through
    //    the link the first planted.
    REQUIRE(run_process({"/bin/tar", "-C", work + "/t1", "-cf", ctx + "/first.tar", "data"}).code == 0);
    REQUIRE(run_process({"/bin/tar", "-C", work + "/t2", "-cf", ctx + "/second.tar", "data/link.txt"}).code == 0);
    auto listing = run_process({"/bin/tar", "-tvf", ctx + "/dotdot.tar"});
    INFO(listing.out);
    REQUIRE(listing.out.find("../") != std::string::npos);

    for (const char* add : {"ADD dotdot.tar /", "ADD abs.tar /", "ADD link.tar /", "ADD first.tar second.tar /"}) {
        CAPTURE(add);
        write_text(ctx + "/Dockerfile", std::string("FROM busybox\n") + add + "\n");
        auto b = r.isolab({"build", "-t", "tars", ctx});
        INFO(b.out << b.err);
        CHECK(fs::is_empty(host.path + "/target"));
        CHECK(files_containing(host.path + "/target", payload).empty());
        CHECK_FALSE(fs::exists(host.path + "/target-src"));
        if (std::string(add) == "ADD first.tar second.tar /") {
            // Clean tars, so the build succeeds, and the write stayed inside the image.
            CHECK(b.code == 0);
            CHECK(r.isolab({"run", "--rm", "tars", "cat", host.path + "/target/link.txt"}).out == payload + "\n");
        }
    }
    // Nothing of the refused tars reached a layer (the two clean tars did, inside the image).
    (void)r.isolab({"rmi", "tars"});
    CHECK(files_containing(r.path() + "/images/layers", payload).empty());
}

TEST_CASE("security build: a context symlink to a host directory never copies host files (path, dir, wildcard, --chown)") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string secret = unique_token("SECRET-");
    write_text(host.path + "/secret/s.txt", secret + "\n");
    std::string ctx = host.path + "/ctx";
    fs::create_directories(ctx + "/d");
    fs::create_directory_symlink(host.path + "/secret", ctx + "/hd");
    fs::create_symlink(host.path + "/secret/s.txt", ctx + "/hs");
    fs::create_directory_symlink(host.path + "/secret", ctx + "/d/hl");  // a link inside a copied dir
    write_text(ctx + "/d/ok.txt", "ok\n");

    const char* attacks[] = {
        "COPY hd/s.txt /s.txt",  "COPY hd/ /x/",         "COPY hd /x/",          "COPY h*/s.txt /y/",
        "COPY hd/*.txt /y/",     "COPY --chown=1:1 hd/s.txt /z", "COPY --chown=1:1 hd/ /z/",
        "COPY hs /s.txt",        "COPY h? /w/",          "ADD hd/s.txt /a",      "COPY ./hd/../hd/s.txt /b",
    };
    for (const char* attack : attacks) {
        CAPTURE(attack);
        write_text(ctx + "/Dockerfile", std::string("FROM busybox\n") + attack + "\n");
        auto b = r.isolab({"build", "-t", "leak", ctx});
        INFO(b.out << b.err);
        CHECK(b.code == 1);
        bool docker_wording = b.err.find("file not found in build context") != std::string::npos ||
                              b.err.find("no source files were specified") != std::string::npos;
        CHECK(docker_wording);
        CHECK(b.err.find(secret) == std::string::npos);
        CHECK(files_containing(r.path() + "/images", secret).empty());
        CHECK(files_containing(r.path() + "/containers", secret).empty());
    }

    // A symlink inside a copied directory is copied as a symlink: the image holds the link, not
    // the file it points to on the host.
    write_text(ctx + "/Dockerfile", "FROM busybox\nCOPY d/ /d/\n");
    auto b = r.isolab({"build", "-t", "links", ctx});
    INFO(b.out << b.err);
    CHECK(b.code == 0);
    CHECK(files_containing(r.path() + "/images", secret).empty());
    CHECK(r.isolab({"run", "--rm", "links", "readlink", "/d/hl"}).out == host.path + "/secret\n");
    CHECK(r.isolab({"run", "--rm", "links", "cat", "/d/ok.txt"}).out == "ok\n");

    // Docker resolves the link inside the context: `hd -> HOST/secret` is `<context>HOST/secret`.
    write_text(ctx + host.path + "/secret/s.txt", "from inside the context\n");
    write_text(ctx + "/Dockerfile", "FROM busybox\nCOPY hd/s.txt /s.txt\n");
    auto inside = r.isolab({"build", "-t", "inside", ctx});
    INFO(inside.out << inside.err);
    CHECK(inside.code == 0);
    CHECK(r.isolab({"run", "--rm", "inside", "cat", "/s.txt"}).out == "from inside the context\n");
    CHECK(files_containing(r.path() + "/images", secret).empty());
}

TEST_CASE("security build: COPY --from a hostile stage whose paths are symlinks to host files copies the stage's own files") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string secret = unique_token("host-secret-");
    const std::string own = unique_token("stage-own-");
    const std::string host_file = host.path + "/secret.txt";
    const std::string host_only = host.path + "/only-on-host.txt";
    write_text(host_file, secret + "\n");
    write_text(host_only, secret + "\n");
    std::string ctx = host.path + "/ctx";
    // The stage has its own file at the host file's path; `/app` and `/dir/f` point there by an
    // absolute link and by a link to a directory; `/gone` points at a path only the host has.
    write_text(ctx + "/Dockerfile",
               "FROM busybox AS evil\n"
               "RUN mkdir -p " + host.path + " && echo " + own + " > " + host_file + " && ln -s " + host_file +
                   " /app && ln -s " + host.path + " /dir && ln -s " + host_only + " /gone\n"
               "FROM busybox\n"
               "COPY --from=evil /app /copied\n"
               "COPY --from=evil /dir/secret.txt /via-dir\n");
    auto b = r.isolab({"build", "-t", "evil:1", ctx});
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    CHECK(r.isolab({"run", "--rm", "evil:1", "cat", "/copied", "/via-dir"}).out == own + "\n" + own + "\n");
    CHECK(files_containing(r.path() + "/images", secret).empty());

    // A link to what only the host has is a missing file in the stage: the build fails, and the
    // host's bytes are nowhere in the store.
    write_text(ctx + "/Dockerfile",
               "FROM busybox AS evil\n"
               "RUN ln -s " + host_only + " /gone\n"
               "FROM busybox\n"
               "COPY --from=evil /gone /copied\n");
    auto gone = r.isolab({"build", "-t", "evil:2", ctx});
    CHECK(gone.code == 1);
    CHECK(gone.err == "Dockerfile:4: COPY --from: /gone: not found in stage evil\n");
    CHECK(files_containing(r.path() + "/images", secret).empty());
    CHECK(r.isolab({"images", "-q", "evil:2"}).out.empty());
}
