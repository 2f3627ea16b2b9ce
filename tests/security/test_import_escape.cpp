// `isolab import` reads a tarball someone else made: the same hostile input as a layer in
// `isolab load`, and it goes through the same extraction (extract_layer_tar). Each case imports
// a crafted tar as root and asserts that the host file it aims at is untouched, that the import
// is refused naming the entry (as `load` refuses such a layer), and that nothing of it is left in
// the image store. A device node in the tar is kept, as the loader keeps one, and stays unusable
// in a container (the device cgroup, tests/security/test_devices.cpp).
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "security.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

struct HostDir {
    std::string path;
    HostDir() {
        char tmpl[] = "/tmp/isl-import-host.XXXXXX";
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

// GNU tar's listing, names as stored (-P: a leading `/` or `../` is not stripped for display).
std::string tar_listing(const std::string& tar) { return run_process({"/bin/tar", "-tvPf", tar}).out; }

// A tar holding `inner` (PAYLOAD) and `hl`, a hard link to LINK_TARGET verbatim.
void write_hardlink_tar(const std::string& path, const std::string& payload, const std::string& link_target) {
    struct archive* a = archive_write_new();
    REQUIRE(a != nullptr);
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    const std::string body = payload + "\n";
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "inner");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(body.size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, body.data(), body.size()) == static_cast<la_ssize_t>(body.size()));
    archive_entry_clear(e);
    archive_entry_set_pathname(e, "hl");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_hardlink(e, link_target.c_str());
    archive_entry_set_size(e, 0);
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_entry_free(e);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
}

}  // namespace

TEST_CASE("security import: ../ names, absolute names, symlinked parents and hard links out of the layer never reach the host") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string payload = unique_token("import-payload-");
    const std::string work = host.path + "/work";
    fs::create_directories(host.path + "/target");
    fs::create_directories(work);

    // 1. `../../../tmp/isolab-import-escape-XXXX`: from deep inside WORK up to `/` and down to
    //    /tmp. GNU tar keeps the name with -P; the file must exist while tar packs it.
    const std::string escape = "/tmp/" + unique_token("isolab-import-escape-");
    write_text(escape, payload + "\n");
    const std::string deep = work + "/a/b/c/d/e/f/g/h/i/j";
    fs::create_directories(deep);
    REQUIRE(run_process({"/bin/tar", "-C", deep, "-cPf", work + "/dotdot.tar",
                         "../../../../../../../../../../../../../../../../.." + escape})
                .code == 0);
    fs::remove(escape);
    REQUIRE(tar_listing(work + "/dotdot.tar").find("../../tmp/isolab-import-escape-") != std::string::npos);

    // 2. An absolute name.
    const std::string absolute = host.path + "/target/abs.txt";
    write_text(absolute, payload + "\n");
    REQUIRE(run_process({"/bin/tar", "-cPf", work + "/abs.tar", absolute}).code == 0);
    fs::remove(absolute);
    REQUIRE(tar_listing(work + "/abs.tar").find(" " + absolute) != std::string::npos);

    // 3. `etc -> HOST/target`, then `etc/passwd` through it, in one tar.
    fs::create_directories(work + "/t1");
    fs::create_directory_symlink(host.path + "/target", work + "/t1/etc");
    write_text(work + "/t2/etc/passwd", "root::0:0:" + payload + ":/:/bin/sh\n");
    REQUIRE(run_process({"/bin/tar", "-C", work + "/t1", "-cf", work + "/link.tar", "etc"}).code == 0);
    REQUIRE(run_process({"/bin/tar", "-C", work + "/t2", "-rf", work + "/link.tar", "etc/passwd"}).code == 0);

    // 4. Hard links whose targets are a host file, by absolute name and by `../`. GNU tar strips
    //    both from link targets, so these two are written with libarchive.
    const std::string secret = host.path + "/target/secret";
    write_text(secret, "host secret\n");
    write_hardlink_tar(work + "/hardlink.tar", payload, secret);
    write_hardlink_tar(work + "/hardlink-dotdot.tar", payload, "../../../../../../../../.." + secret);
    REQUIRE(tar_listing(work + "/hardlink.tar").find("link to " + secret) != std::string::npos);
    REQUIRE(tar_listing(work + "/hardlink-dotdot.tar").find("link to ../../") != std::string::npos);

    const auto images_before = r.isolab({"images", "-q"}).out;
    struct Case {
        const char* tar;
        const char* refusal;  // what the error says about the entry
    };
    for (const Case& c : {Case{"dotdot.tar", "has a `..` component"}, Case{"abs.tar", "is an absolute path"},
                          Case{"link.tar", "etc/passwd"}, Case{"hardlink.tar", "is an absolute path"},
                          Case{"hardlink-dotdot.tar", "has a `..` component"}}) {
        CAPTURE(c.tar);
        for (bool from_stdin : {false, true}) {
            CAPTURE(from_stdin);
            CmdResult imp;
            if (from_stdin) {
                std::ifstream in(work + "/" + c.tar, std::ios::binary);
                std::stringstream bytes;
                bytes << in.rdbuf();
                imp = r.isolab({"import", "-", "hostile"}, 60000, bytes.str());
            } else {
                imp = r.isolab({"import", work + "/" + c.tar, "hostile"});
            }
            INFO(imp.out << imp.err);
            CHECK(imp.code != 0);
            CHECK(imp.err.find("Error response from daemon: import: extract layer") == 0);
            CHECK(imp.err.find(c.refusal) != std::string::npos);
            CHECK(std::count(imp.err.begin(), imp.err.end(), '\n') == 1);
            // The host is untouched.
            CHECK_FALSE(fs::exists(escape));
            CHECK_FALSE(fs::exists(absolute));
            CHECK_FALSE(fs::exists(host.path + "/target/passwd"));
            CHECK(read_text(secret) == "host secret\n");
            CHECK(fs::hard_link_count(secret) == 1);
            CHECK(files_containing(host.path + "/target", payload).empty());
            // No image, and nothing of the tar in the store.
            CHECK(r.isolab({"images", "-q"}).out == images_before);
            CHECK(r.isolab({"inspect", "hostile"}).code != 0);
            CHECK(files_containing(r.path() + "/images", payload).empty());
            for (const auto& e : fs::directory_iterator(r.path() + "/images/layers"))
                CHECK(e.path().filename().string().rfind(".import", 0) != 0);
        }
    }

}

TEST_CASE("security import: a device node in the tar is kept as the loader keeps it, and does not open in a container") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string work = host.path + "/dev-tar";
    fs::create_directories(work);
    // /dev/kmsg's numbers (1, 11), world-writable, under an innocent name; and busybox to run.
    REQUIRE(::mknod((work + "/kmsg-node").c_str(), S_IFCHR | 0666, makedev(1, 11)) == 0);
    ::chmod((work + "/kmsg-node").c_str(), 0666);
    fs::create_directories(work + "/bin");
    REQUIRE(run_process({"/bin/cp", "/bin/busybox", work + "/bin/busybox"}).code == 0);
    fs::create_symlink("busybox", work + "/bin/sh");
    REQUIRE(run_process({"/bin/tar", "-C", work, "-cf", host.path + "/dev.tar", "bin", "kmsg-node"}).code == 0);

    auto imp = r.isolab({"import", "-c", "CMD [\"/bin/sh\"]", host.path + "/dev.tar", "devimg"});
    INFO(imp.err);
    REQUIRE(imp.code == 0);
    auto kind = r.isolab({"run", "--rm", "devimg", "/bin/sh", "-c", "/bin/busybox stat -c '%F %t,%T %a' /kmsg-node"});
    CHECK(kind.out == "character special file 1,b 666\n");
    auto open = r.isolab({"run", "--rm", "devimg", "/bin/sh", "-c", "echo attack > /kmsg-node"});
    CHECK(open.code != 0);
    CHECK(open.err.find("Operation not permitted") != std::string::npos);
}
