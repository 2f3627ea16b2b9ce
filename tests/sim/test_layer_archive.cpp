// Layer tars and image archives (sim/engine/layer_archive, image_archive): overlay ↔ OCI whiteout
// translation, deterministic diff_ids, refusal of tars that try to write outside their layer, and
// the save → load round trip. Trees with whiteouts need mknod, i.e. root: those cases say so
// loudly and skip when run unprivileged.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <clocale>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/engine/image_archive.hpp"
#include "sim/engine/layer_archive.hpp"

using namespace isolab;
using nlohmann::json;

namespace {

constexpr time_t kMtime = 1700000000;  // fixed, so two builds of a tree are byte-identical

bool have_root() { return ::geteuid() == 0; }

#define REQUIRE_ROOT_OR_SKIP()                                                                          \
    do {                                                                                                \
        if (!have_root()) {                                                                             \
            ISOLAB_SKIP("this case makes overlay whiteouts (mknod c 0 0) and needs root"); \
            return;                                                                                     \
        }                                                                                               \
    } while (0)

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/isolab-lar-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { (void)remove_tree(path); }
};

void put(const std::string& path, const std::string& content, mode_t mode = 0644) {
    REQUIRE(write_file(path, content).ok());
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

int set_mtime(const char* p, const struct stat*, int, struct FTW*) {
    struct timespec ts[2] = {{kMtime, 0}, {kMtime, 0}};
    return ::utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

const char* opaque_xattr() { return have_root() ? "trusted.overlay.opaque" : "user.overlay.opaque"; }

// A layer with a bit of everything. WITH_WHITEOUTS adds an overlay whiteout (root only).
void build_tree(const std::string& root, bool with_whiteouts, const std::string& hello = "hello\n") {
    REQUIRE(make_dirs(root + "/bin").ok());
    REQUIRE(make_dirs(root + "/etc/empty").ok());
    REQUIRE(make_dirs(root + "/opq/sub").ok());
    put(root + "/bin/tool", "#!/bin/sh\necho tool\n", 0755);
    put(root + "/etc/hello", hello);
    put(root + "/etc/secret", "s", 0600);
    put(root + "/opq/sub/kept", "kept");
    REQUIRE(::link((root + "/bin/tool").c_str(), (root + "/bin/tool-link").c_str()) == 0);
    REQUIRE(::symlink("../etc/hello", (root + "/bin/hello").c_str()) == 0);
    REQUIRE(::symlink("/bin/tool", (root + "/abs-link").c_str()) == 0);
    REQUIRE(::mkfifo((root + "/etc/fifo").c_str(), 0644) == 0);
    REQUIRE(::setxattr((root + "/opq").c_str(), opaque_xattr(), "y", 1, 0) == 0);
    if (with_whiteouts) REQUIRE(::mknod((root + "/etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)) == 0);
    REQUIRE(::nftw(root.c_str(), set_mtime, 16, FTW_PHYS | FTW_DEPTH) == 0);
}

struct TarRow {
    std::string name;
    mode_t type = 0;
    int64_t size = 0;
    std::string symlink, hardlink, uname, gname;
    bool has_atime = false;
};

std::vector<TarRow> list_tar(const std::string& path) {
    std::vector<TarRow> rows;
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    REQUIRE(archive_read_open_filename(a, path.c_str(), 10240) == ARCHIVE_OK);
    struct archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        TarRow r;
        r.name = archive_entry_pathname(e);
        r.type = archive_entry_filetype(e);
        r.size = archive_entry_size(e);
        if (archive_entry_symlink(e)) r.symlink = archive_entry_symlink(e);
        if (archive_entry_hardlink(e)) r.hardlink = archive_entry_hardlink(e);
        if (archive_entry_uname(e)) r.uname = archive_entry_uname(e);
        if (archive_entry_gname(e)) r.gname = archive_entry_gname(e);
        r.has_atime = archive_entry_atime_is_set(e);
        rows.push_back(r);
    }
    archive_read_free(a);
    return rows;
}

std::map<std::string, std::string> read_tar_files(const std::string& path) {
    std::map<std::string, std::string> out;
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    REQUIRE(archive_read_open_filename(a, path.c_str(), 10240) == ARCHIVE_OK);
    struct archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG) continue;
        std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
        if (!data.empty()) REQUIRE(archive_read_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size()));
        out[archive_entry_pathname(e)] = data;
    }
    archive_read_free(a);
    return out;
}

// Everything about a tree that a layer must preserve, one line per path.
std::map<std::string, std::string> snapshot(const std::string& root) {
    std::map<std::string, std::string> out;
    std::map<ino_t, std::string> first_of_inode;
    std::vector<std::string> stack{""};
    while (!stack.empty()) {
        std::string rel = stack.back();
        stack.pop_back();
        std::string dir = rel.empty() ? root : root + "/" + rel;
        std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
        REQUIRE(d);
        while (struct dirent* de = ::readdir(d.get())) {
            std::string n = de->d_name;
            if (n == "." || n == "..") continue;
            std::string r = rel.empty() ? n : rel + "/" + n;
            std::string p = root + "/" + r;
            struct stat st;
            REQUIRE(::lstat(p.c_str(), &st) == 0);
            std::string line = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                               std::to_string(st.st_gid) + " t=" + std::to_string(st.st_mtim.tv_sec);
            if (S_ISREG(st.st_mode)) {
                auto content = read_file(p);
                REQUIRE(content.ok());
                line += " data=" + *content + " nlink=" + std::to_string(st.st_nlink);
                auto [it, fresh] = first_of_inode.emplace(st.st_ino, r);
                if (!fresh) line += " same-inode-as=" + it->second;
            } else if (S_ISLNK(st.st_mode)) {
                char buf[4096];
                ssize_t k = ::readlink(p.c_str(), buf, sizeof buf);
                line += " -> " + std::string(buf, static_cast<size_t>(k));
            } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                line += " dev=" + std::to_string(major(st.st_rdev)) + "/" + std::to_string(minor(st.st_rdev));
            } else if (S_ISDIR(st.st_mode)) {
                char v[8];
                ssize_t k = ::lgetxattr(p.c_str(), opaque_xattr(), v, sizeof v);
                if (k > 0) line += " opaque=" + std::string(v, static_cast<size_t>(k));
                stack.push_back(r);
            }
            out[r] = line;
        }
    }
    return out;
}

struct TarSpec {
    std::string name;
    mode_t type = AE_IFREG;
    std::string content;
    std::string link;  // symlink target, or hard link target when type == 0
};

void write_tar(const std::string& path, const std::vector<TarSpec>& specs, bool gzip = false) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip) archive_write_add_filter_gzip(a);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    for (const auto& s : specs) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_copy_pathname(e, s.name.c_str());
        if (s.type == 0) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_copy_hardlink(e, s.link.c_str());
        } else {
            archive_entry_set_filetype(e, s.type);
        }
        archive_entry_set_perm(e, s.type == AE_IFDIR ? 0755 : 0644);
        if (s.type == AE_IFLNK) archive_entry_copy_symlink(e, s.link.c_str());
        archive_entry_set_size(e, static_cast<la_int64_t>(s.content.size()));
        REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
        if (!s.content.empty()) archive_write_data(a, s.content.data(), s.content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

// Compresses FILE as a whole (format raw) with gzip or zstd.
void compress_file(const std::string& in, const std::string& out, bool zstd) {
    auto data = read_file(in);
    REQUIRE(data.ok());
    struct archive* a = archive_write_new();
    archive_write_set_format_raw(a);
    if (zstd)
        archive_write_add_filter_zstd(a);
    else
        archive_write_add_filter_gzip(a);
    REQUIRE(archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK);
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(data->size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, data->data(), data->size()) == static_cast<la_ssize_t>(data->size()));
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

std::string sha256_file(const std::string& path) {
    auto data = read_file(path);
    REQUIRE(data.ok());
    Sha256Stream h;
    h.update(*data);
    return "sha256:" + h.hex();
}

std::string make_config(const std::vector<std::string>& diff_ids, const std::string& cmd) {
    json c = {{"architecture", "amd64"},
              {"os", "linux"},
              {"config", {{"Cmd", {cmd}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    // Not dump()'s canonical form on purpose: the round trip must keep these exact bytes.
    return c.dump(3) + "\n";
}

bool dir_is_empty(const std::string& dir) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    REQUIRE(d);
    while (struct dirent* de = ::readdir(d.get())) {
        std::string n = de->d_name;
        if (n != "." && n != "..") return false;
    }
    return true;
}

}  // namespace

TEST_CASE("layer archive: overlay whiteouts, opaque dirs and links become the right tar entries") {
    REQUIRE_ROOT_OR_SKIP();
    TempDir t;
    build_tree(t.path + "/layer", true);
    auto tar = write_layer_tar(t.path + "/layer", t.path + "/layer.tar");
    REQUIRE_MESSAGE(tar.ok(), tar.error().message);
    CHECK(tar->diff_id == sha256_file(t.path + "/layer.tar"));
    struct stat st;
    REQUIRE(::stat((t.path + "/layer.tar").c_str(), &st) == 0);
    CHECK(tar->size == st.st_size);

    auto rows = list_tar(t.path + "/layer.tar");
    std::vector<std::string> names;
    std::map<std::string, TarRow> by_name;
    for (const auto& r : rows) {
        names.push_back(r.name);
        by_name[r.name] = r;
        CHECK_MESSAGE(r.uname.empty(), r.name);
        CHECK_MESSAGE(r.gname.empty(), r.name);
        CHECK_MESSAGE(!r.has_atime, r.name);
    }
    const std::vector<std::string> expected = {
        "abs-link",   "bin/",       "bin/hello",       "bin/tool",   "bin/tool-link",  "etc/",
        "etc/.wh.gone", "etc/empty/", "etc/fifo",      "etc/hello",  "etc/secret",     "opq/",
        "opq/.wh..wh..opq", "opq/sub/", "opq/sub/kept"};
    CHECK(names == expected);  // sorted bytewise, no "./", no root entry, dirs end with "/"
    CHECK(by_name["etc/.wh.gone"].type == AE_IFREG);
    CHECK(by_name["etc/.wh.gone"].size == 0);
    CHECK(by_name["opq/.wh..wh..opq"].type == AE_IFREG);
    CHECK(by_name["opq/"].type == AE_IFDIR);
    CHECK(by_name["bin/tool-link"].hardlink == "bin/tool");
    CHECK(by_name["bin/tool-link"].size == 0);
    CHECK(by_name["bin/hello"].type == AE_IFLNK);
    CHECK(by_name["bin/hello"].symlink == "../etc/hello");
    CHECK(by_name["etc/fifo"].type == AE_IFIFO);
    CHECK(by_name["etc/hello"].size == 6);
}

TEST_CASE("layer archive: extracting gives the same tree back, whiteouts as char 0/0 and the opaque xattr") {
    REQUIRE_ROOT_OR_SKIP();
    TempDir t;
    build_tree(t.path + "/layer", true);
    auto tar = write_layer_tar(t.path + "/layer", t.path + "/layer.tar");
    REQUIRE_MESSAGE(tar.ok(), tar.error().message);
    auto back = extract_layer_tar(t.path + "/layer.tar", t.path + "/out");
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    CHECK(back->diff_id == tar->diff_id);
    CHECK(back->size == tar->size);

    auto before = snapshot(t.path + "/layer");
    auto after = snapshot(t.path + "/out");
    CHECK(before == after);
    for (const auto& [k, v] : before) CHECK_MESSAGE(after[k] == v, k);

    struct stat st;
    REQUIRE(::lstat((t.path + "/out/etc/gone").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == makedev(0, 0));
    CHECK(!path_exists(t.path + "/out/etc/.wh.gone"));
    CHECK(!path_exists(t.path + "/out/opq/.wh..wh..opq"));
    char v[4] = {};
    CHECK(::lgetxattr((t.path + "/out/opq").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
    CHECK(v[0] == 'y');

    // And the extracted tree archives to the very same bytes.
    auto again = write_layer_tar(t.path + "/out", "");
    REQUIRE(again.ok());
    CHECK(again->diff_id == tar->diff_id);

    // A destination that is not empty is refused.
    auto busy = extract_layer_tar(t.path + "/layer.tar", t.path + "/out");
    REQUIRE(!busy.ok());
    CHECK(busy.error().message.find("not empty") != std::string::npos);
}

TEST_CASE("layer archive: the digest is deterministic and follows the content") {
    if (!have_root()) MESSAGE("running without root: the tree has no whiteout device in this case");
    TempDir t;
    build_tree(t.path + "/one", have_root());
    build_tree(t.path + "/two/nested/elsewhere", have_root());
    auto a = write_layer_tar(t.path + "/one", "");
    auto b = write_layer_tar(t.path + "/two/nested/elsewhere", t.path + "/two.tar");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->diff_id == b->diff_id);
    CHECK(a->size == b->size);
    CHECK(a->diff_id.rfind("sha256:", 0) == 0);
    CHECK(a->diff_id.size() == 7 + 64);
    CHECK(b->diff_id == sha256_file(t.path + "/two.tar"));
    CHECK(!path_exists(t.path + "/two.tar.tmp." + std::to_string(::getpid())));

    // One byte changed (same size, same mtime) → another diff_id.
    build_tree(t.path + "/three", have_root(), "hellO\n");
    auto c = write_layer_tar(t.path + "/three", "");
    REQUIRE(c.ok());
    CHECK(c->diff_id != a->diff_id);
    CHECK(c->size == a->size);

    // Metadata counts too: a mode change alone changes the digest.
    REQUIRE(::chmod((t.path + "/one/etc/hello").c_str(), 0600) == 0);
    auto d = write_layer_tar(t.path + "/one", "");
    REQUIRE(d.ok());
    CHECK(d->diff_id != a->diff_id);
}

TEST_CASE("layer archive: non-ASCII names give the same diff_id under any locale and come back byte for byte") {
    TempDir t;
    REQUIRE(make_dirs(t.path + "/layer").ok());
    const std::string utf8 = "h\xc3\xa9llo-\xed\x95\x9c";  // héllo-한
    const std::string not_utf8 = "bad\xff";
    put(t.path + "/layer/" + utf8, "x");
    put(t.path + "/layer/" + not_utf8, "y");
    REQUIRE(::nftw((t.path + "/layer").c_str(), set_mtime, 16, FTW_PHYS | FTW_DEPTH) == 0);
    std::string saved = std::setlocale(LC_ALL, nullptr);
    REQUIRE(std::setlocale(LC_ALL, "C"));
    auto in_c = write_layer_tar(t.path + "/layer", t.path + "/c.tar");
    if (!std::setlocale(LC_ALL, "C.UTF-8")) {
        std::setlocale(LC_ALL, saved.c_str());
        ISOLAB_SKIP("the C.UTF-8 locale is not available");
        return;
    }
    auto in_utf8 = write_layer_tar(t.path + "/layer", "");
    auto back = extract_layer_tar(t.path + "/c.tar", t.path + "/out");
    std::setlocale(LC_ALL, saved.c_str());
    REQUIRE(in_c.ok());
    REQUIRE(in_utf8.ok());
    CHECK(in_c->diff_id == in_utf8->diff_id);
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    CHECK(read_file(t.path + "/out/" + utf8).value() == "x");
    CHECK(read_file(t.path + "/out/" + not_utf8).value() == "y");
}

TEST_CASE("layer archive: a gzip or zstd layer gives the diff_id of its plain tar") {
    TempDir t;
    build_tree(t.path + "/layer", have_root());
    auto plain = write_layer_tar(t.path + "/layer", t.path + "/layer.tar");
    REQUIRE(plain.ok());
    compress_file(t.path + "/layer.tar", t.path + "/layer.tar.gz", false);
    compress_file(t.path + "/layer.tar", t.path + "/layer.tar.zst", true);
    CHECK(sha256_file(t.path + "/layer.tar.gz") != plain->diff_id);

    auto gz = extract_layer_tar(t.path + "/layer.tar.gz", t.path + "/gz");
    REQUIRE_MESSAGE(gz.ok(), gz.error().message);
    CHECK(gz->diff_id == plain->diff_id);
    CHECK(gz->size == plain->size);
    auto zst = extract_layer_tar(t.path + "/layer.tar.zst", t.path + "/zst");
    REQUIRE_MESSAGE(zst.ok(), zst.error().message);
    CHECK(zst->diff_id == plain->diff_id);
    CHECK(snapshot(t.path + "/gz") == snapshot(t.path + "/layer"));

    // A tar written by another tool (trailing padding to 10 KiB, "./" names) still hashes whole.
    write_tar(t.path + "/other.tar", {{"./a", AE_IFREG, "x", ""}});
    auto other = extract_layer_tar(t.path + "/other.tar", t.path + "/other");
    REQUIRE_MESSAGE(other.ok(), other.error().message);
    CHECK(other->diff_id == sha256_file(t.path + "/other.tar"));
    CHECK(read_file(t.path + "/other/a").value() == "x");

    // Zeros after the end-of-archive blocks, beyond what the tar reader looks at, are in the digest.
    auto padded = read_file(t.path + "/other.tar");
    REQUIRE(padded.ok());
    REQUIRE(write_file(t.path + "/padded.tar", *padded + std::string(256 * 1024, '\0')).ok());
    auto p = extract_layer_tar(t.path + "/padded.tar", t.path + "/padded");
    REQUIRE_MESSAGE(p.ok(), p.error().message);
    CHECK(p->diff_id == sha256_file(t.path + "/padded.tar"));
    CHECK(p->diff_id != other->diff_id);
    CHECK(p->size == static_cast<int64_t>(padded->size() + 256 * 1024));
}

TEST_CASE("layer archive: tars that write outside their layer are refused, naming the entry") {
    TempDir t;
    const std::string victim = t.path + "/victim";
    REQUIRE(make_dirs(victim).ok());
    struct Case {
        const char* what;
        std::vector<TarSpec> specs;
        std::string entry;
    };
    std::vector<Case> cases = {
        {"dot-dot", {{"../x", AE_IFREG, "evil", ""}}, "../x"},
        {"dot-dot inside", {{"a/../../x", AE_IFREG, "evil", ""}}, "a/../../x"},
        {"absolute", {{"/etc/isolab-evil", AE_IFREG, "evil", ""}}, "/etc/isolab-evil"},
        {"through a symlink", {{"esc", AE_IFLNK, "", victim}, {"esc/x", AE_IFREG, "evil", ""}}, "esc/x"},
        {"hard link to an absolute path", {{"h", 0, "", "/etc/passwd"}}, "h"},
        {"hard link through a symlink", {{"esc", AE_IFLNK, "", "/etc"}, {"h", 0, "", "esc/passwd"}}, "h"},
        {"whiteout through a symlink", {{"esc", AE_IFLNK, "", victim}, {"esc/.wh.x", AE_IFREG, "", ""}}, "esc/.wh.x"},
        {"opaque through a symlink",
         {{"esc", AE_IFLNK, "", victim}, {"esc/.wh..wh..opq", AE_IFREG, "", ""}},
         "esc/.wh..wh..opq"},
    };
    int n = 0;
    for (const auto& c : cases) {
        CAPTURE(c.what);
        std::string tar = t.path + "/evil" + std::to_string(n) + ".tar";
        std::string dest = t.path + "/dest" + std::to_string(n++);
        write_tar(tar, c.specs);
        auto r = extract_layer_tar(tar, dest);
        REQUIRE(!r.ok());
        CHECK_MESSAGE(r.error().message.find("`" + c.entry + "`") != std::string::npos, r.error().message);
        CHECK(dir_is_empty(victim));
    }
    CHECK(!path_exists(t.path + "/x"));
    CHECK(!path_exists("/etc/isolab-evil"));
}

TEST_CASE("image archive: familiar names from annotations and RepoTags") {
    CHECK(familiar_image_name("docker.io/library/hello:latest", false) == "hello:latest");
    CHECK(familiar_image_name("index.docker.io/library/hello:1.0", false) == "hello:1.0");
    CHECK(familiar_image_name("docker.io/me/app:v2", false) == "me/app:v2");
    CHECK(familiar_image_name("localhost/hello:latest", false) == "hello:latest");
    CHECK(familiar_image_name("localhost/hello", false) == "hello:latest");
    CHECK(familiar_image_name("hello", false) == "hello:latest");
    CHECK(familiar_image_name("quay.io/org/img:3", false) == "quay.io/org/img:3");
    CHECK(familiar_image_name("localhost:5000/img", false) == "localhost:5000/img:latest");
    CHECK(familiar_image_name("latest", true) == "");  // Docker's ref.name: a tag, no repository
    CHECK(familiar_image_name("hello:latest", true) == "hello:latest");
    CHECK(familiar_image_name("hello@sha256:0123", false) == "");
    CHECK(full_image_name("hello:latest") == "docker.io/library/hello:latest");
    CHECK(full_image_name("me/app") == "docker.io/me/app:latest");
    CHECK(full_image_name("localhost:5000/img:1") == "localhost:5000/img:1");
    CHECK(full_image_name("quay.io/org/img:3") == "quay.io/org/img:3");
}

TEST_CASE("image archive: save then load keeps config bytes, diff_ids and tags; shared layers once") {
    if (!have_root()) MESSAGE("running without root: the layers have no whiteout device in this case");
    TempDir t;
    build_tree(t.path + "/base", have_root());
    REQUIRE(make_dirs(t.path + "/top/etc").ok());
    put(t.path + "/top/etc/motd", "welcome\n");
    REQUIRE(::nftw((t.path + "/top").c_str(), set_mtime, 16, FTW_PHYS | FTW_DEPTH) == 0);
    auto base = write_layer_tar(t.path + "/base", "");
    auto top = write_layer_tar(t.path + "/top", "");
    REQUIRE(base.ok());
    REQUIRE(top.ok());

    ArchiveImage one{make_config({base->diff_id}, "sh"), {t.path + "/base"}, {"hello:latest", "hello:1.0"}, {}, {}};
    ArchiveImage two{make_config({base->diff_id, top->diff_id}, "motd"),
                     {t.path + "/base", t.path + "/top"},
                     {"me/motd:v1"},
                     {},
                     {}};
    const std::string out = t.path + "/images.tar";
    auto saved = save_image_archive({one, two}, out);
    REQUIRE_MESSAGE(saved.ok(), saved.error().message);
    CHECK(!path_exists(out + ".tmp." + std::to_string(::getpid())));
    CHECK(!path_exists(out + ".tmp." + std::to_string(::getpid()) + ".d"));

    // The layout: OCI index with both name annotations per tag, Docker's manifest.json, each blob once.
    auto files = read_tar_files(out);
    REQUIRE(files.count("oci-layout"));
    CHECK(json::parse(files["oci-layout"])["imageLayoutVersion"] == "1.0.0");
    json index = json::parse(files["index.json"]);
    REQUIRE(index["manifests"].size() == 3);
    std::set<std::string> containerd_names, ref_names;
    for (const auto& m : index["manifests"]) {
        CHECK(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
        containerd_names.insert(m["annotations"]["io.containerd.image.name"].get<std::string>());
        ref_names.insert(m["annotations"]["org.opencontainers.image.ref.name"].get<std::string>());
        std::string hex = m["digest"].get<std::string>().substr(7);
        REQUIRE(files.count("blobs/sha256/" + hex));
        json manifest = json::parse(files["blobs/sha256/" + hex]);
        for (const auto& l : manifest["layers"])
            CHECK(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar");
    }
    CHECK(containerd_names == std::set<std::string>{"docker.io/library/hello:latest", "docker.io/library/hello:1.0",
                                                    "docker.io/me/motd:v1"});
    CHECK(ref_names == containerd_names);
    json docker = json::parse(files["manifest.json"]);
    REQUIRE(docker.size() == 2);
    CHECK(docker[0]["RepoTags"] == json({"docker.io/library/hello:latest", "docker.io/library/hello:1.0"}));
    CHECK(docker[1]["Layers"].size() == 2);
    CHECK(docker[0]["Layers"][0] == docker[1]["Layers"][0]);
    int base_blobs = 0;
    for (const auto& r : list_tar(out)) base_blobs += r.name == "blobs/sha256/" + base->diff_id.substr(7);
    CHECK(base_blobs == 1);
    CHECK(files["blobs/sha256/" + base->diff_id.substr(7)].size() == static_cast<size_t>(base->size));

    auto loaded = load_image_archive(out, t.path + "/staging");
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    REQUIRE(loaded->size() == 2);
    const ArchiveImage& l1 = (*loaded)[0];
    const ArchiveImage& l2 = (*loaded)[1];
    CHECK(l1.config_bytes == one.config_bytes);
    CHECK(l2.config_bytes == two.config_bytes);
    CHECK(l1.diff_ids == std::vector<std::string>{base->diff_id});
    CHECK(l2.diff_ids == std::vector<std::string>{base->diff_id, top->diff_id});
    CHECK(l1.repo_tags == std::vector<std::string>{"hello:latest", "hello:1.0"});
    CHECK(l2.repo_tags == std::vector<std::string>{"me/motd:v1"});
    REQUIRE(l2.layer_dirs.size() == 2);
    CHECK(l1.layer_dirs[0] == l2.layer_dirs[0]);  // the shared layer was extracted once
    CHECK(snapshot(l2.layer_dirs[0]) == snapshot(t.path + "/base"));
    CHECK(snapshot(l2.layer_dirs[1]) == snapshot(t.path + "/top"));
    CHECK(!path_exists(t.path + "/staging/.archive"));

    // Saving the same images again gives the same bytes.
    REQUIRE(save_image_archive({one, two}, t.path + "/again.tar").ok());
    CHECK(sha256_file(t.path + "/again.tar") == sha256_file(out));

    // gzip'd as a whole, it still loads.
    compress_file(out, t.path + "/images.tar.gz", false);
    auto gz = load_image_archive(t.path + "/images.tar.gz", t.path + "/staging-gz");
    REQUIRE_MESSAGE(gz.ok(), gz.error().message);
    CHECK(gz->size() == 2);
    CHECK((*gz)[1].config_bytes == two.config_bytes);
}

TEST_CASE("image archive: a layer that changed in the store fails the save, naming it, and leaves no file") {
    TempDir t;
    build_tree(t.path + "/base", false);
    auto base = write_layer_tar(t.path + "/base", "");
    REQUIRE(base.ok());
    put(t.path + "/base/etc/hello", "tampered\n");
    ArchiveImage img{make_config({base->diff_id}, "sh"), {t.path + "/base"}, {"hello:latest"}, {}, {}};
    auto r = save_image_archive({img}, t.path + "/out.tar");
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("layer `" + t.path + "/base` no longer matches " + base->diff_id) !=
          std::string::npos);
    CHECK(r.error().message.find("damaged") != std::string::npos);
    CHECK(!path_exists(t.path + "/out.tar"));
    CHECK(dir_is_empty(t.path) == false);
    CHECK(!path_exists(t.path + "/out.tar.tmp." + std::to_string(::getpid())));
    CHECK(!path_exists(t.path + "/out.tar.tmp." + std::to_string(::getpid()) + ".d"));

    // A config whose diff_ids do not match the layer count is refused too.
    ArchiveImage bad{make_config({}, "sh"), {t.path + "/base"}, {"hello:latest"}, {}, {}};
    auto r2 = save_image_archive({bad}, t.path + "/out.tar");
    REQUIRE(!r2.ok());
    CHECK(r2.error().message.find("hello:latest") != std::string::npos);
}

TEST_CASE("image archive: a damaged or missing blob is refused on load, naming it") {
    TempDir t;
    build_tree(t.path + "/base", false);
    auto base = write_layer_tar(t.path + "/base", "");
    REQUIRE(base.ok());
    ArchiveImage img{make_config({base->diff_id}, "sh"), {t.path + "/base"}, {"hello:latest"}, {}, {}};
    REQUIRE(save_image_archive({img}, t.path + "/good.tar").ok());
    auto files = read_tar_files(t.path + "/good.tar");
    const std::string layer_blob = "blobs/sha256/" + base->diff_id.substr(7);
    REQUIRE(files.count(layer_blob));

    // Rebuild the archive with one byte of the layer blob flipped.
    std::vector<TarSpec> specs;
    for (auto [name, data] : files) {
        if (name == layer_blob) data[600] ^= 1;
        specs.push_back({name, AE_IFREG, data, ""});
    }
    write_tar(t.path + "/damaged.tar", specs);
    auto r = load_image_archive(t.path + "/damaged.tar", t.path + "/staging1");
    REQUIRE(!r.ok());
    CHECK_MESSAGE(r.error().message.find(layer_blob) != std::string::npos, r.error().message);
    CHECK(r.error().message.find("damaged") != std::string::npos);

    // Without the layer blob at all.
    specs.clear();
    for (const auto& [name, data] : files)
        if (name != layer_blob) specs.push_back({name, AE_IFREG, data, ""});
    write_tar(t.path + "/missing.tar", specs);
    auto m = load_image_archive(t.path + "/missing.tar", t.path + "/staging2");
    REQUIRE(!m.ok());
    CHECK_MESSAGE(m.error().message.find(base->diff_id) != std::string::npos, m.error().message);
    CHECK(m.error().message.find("missing") != std::string::npos);
}

TEST_CASE("image archive: a legacy `docker save` archive loads, layer.tar checked against the config") {
    TempDir t;
    build_tree(t.path + "/base", false);
    auto base = write_layer_tar(t.path + "/base", t.path + "/layer.tar");
    REQUIRE(base.ok());
    std::string config = make_config({base->diff_id}, "sh");
    Sha256Stream h;
    h.update(config);
    std::string config_hex = h.hex();
    auto layer = read_file(t.path + "/layer.tar");
    REQUIRE(layer.ok());
    json manifest = json::array({{{"Config", config_hex + ".json"},
                                  {"RepoTags", {"docker.io/library/legacy:2", "legacy:latest"}},
                                  {"Layers", {"0123abcd/layer.tar", "4567/layer.tar"}}}});
    // The same layer twice, the second time as a symlink, as older Docker writes repeated layers.
    std::string config2 = make_config({base->diff_id, base->diff_id}, "sh");
    write_tar(t.path + "/legacy.tar", {{"0123abcd/", AE_IFDIR, "", ""},
                                      {"0123abcd/layer.tar", AE_IFREG, *layer, ""},
                                      {"4567/", AE_IFDIR, "", ""},
                                      {"4567/layer.tar", AE_IFLNK, "", "../0123abcd/layer.tar"},
                                      {config_hex + ".json", AE_IFREG, config2, ""},
                                      {"manifest.json", AE_IFREG, manifest.dump(), ""}});
    // The config's content does not match its name: refused.
    auto bad = load_image_archive(t.path + "/legacy.tar", t.path + "/staging0");
    REQUIRE(!bad.ok());
    CHECK_MESSAGE(bad.error().message.find(config_hex) != std::string::npos, bad.error().message);

    Sha256Stream h2;
    h2.update(config2);
    std::string hex2 = h2.hex();
    manifest[0]["Config"] = hex2 + ".json";
    write_tar(t.path + "/legacy2.tar", {{"0123abcd/layer.tar", AE_IFREG, *layer, ""},
                                       {"4567/layer.tar", AE_IFLNK, "", "../0123abcd/layer.tar"},
                                       {hex2 + ".json", AE_IFREG, config2, ""},
                                       {"manifest.json", AE_IFREG, manifest.dump(), ""}});
    // A config whose diff_id does not match the layer: refused, naming the layer.
    std::string config3 = make_config({base->diff_id, "sha256:" + std::string(64, 'a')}, "sh");
    Sha256Stream h3;
    h3.update(config3);
    const std::string hex3 = h3.hex();
    json manifest3 = manifest;
    manifest3[0]["Config"] = hex3 + ".json";
    write_tar(t.path + "/legacy3.tar", {{"0123abcd/layer.tar", AE_IFREG, *layer, ""},
                                       {"4567/layer.tar", AE_IFLNK, "", "../0123abcd/layer.tar"},
                                       {hex3 + ".json", AE_IFREG, config3, ""},
                                       {"manifest.json", AE_IFREG, manifest3.dump(), ""}});
    auto mismatch = load_image_archive(t.path + "/legacy3.tar", t.path + "/staging3");
    REQUIRE(!mismatch.ok());
    CHECK_MESSAGE(mismatch.error().message.find("`4567/layer.tar` has diff_id " + base->diff_id) != std::string::npos,
                  mismatch.error().message);

    auto ok = load_image_archive(t.path + "/legacy2.tar", t.path + "/staging1");
    REQUIRE_MESSAGE(ok.ok(), ok.error().message);
    REQUIRE(ok->size() == 1);
    CHECK((*ok)[0].config_bytes == config2);
    CHECK((*ok)[0].repo_tags == std::vector<std::string>{"legacy:2", "legacy:latest"});
    REQUIRE((*ok)[0].layer_dirs.size() == 2);
    CHECK(snapshot((*ok)[0].layer_dirs[0]) == snapshot(t.path + "/base"));
}
