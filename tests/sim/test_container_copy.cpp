// cp's path rules and tar code without a container (sim/engine/container_copy.hpp): Docker's
// splitCpArg, filepath.Clean, PreserveTrailingDotOrSeparator, SplitPathDirEntry and
// PrepareArchiveCopy on the cases of Docker's documentation table; the tar writer's sizes (what
// "Successfully copied 2.05kB" counts); and the extractor's refusals on crafted archives, each
// checking that the directory beside the extraction point is untouched.
#include <doctest/doctest.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/engine/container_copy.hpp"

using namespace isolab;

namespace {

struct Dir {
    std::string base;
    Dir() {
        char tmpl[] = "/tmp/isolab-cp-unit-XXXXXX";
        base = ::mkdtemp(tmpl);
    }
    ~Dir() { (void)remove_tree(base); }
};

struct TarEntry {
    std::string name;
    char type = 'f';  // f file, d dir, l symlink, h hard link, c char device
    std::string body;  // file data, or the link's target
};

// A tar of ENTRIES, written with libarchive (names verbatim, "../" and absolute ones included).
std::string make_tar(const std::vector<TarEntry>& entries) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& t : entries) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, t.name.c_str());
        archive_entry_set_perm(e, t.type == 'd' ? 0755 : 0644);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        switch (t.type) {
            case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
            case 'l': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_symlink(e, t.body.c_str()); break;
            case 'h': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_hardlink(e, t.body.c_str()); break;
            case 'c': archive_entry_set_filetype(e, AE_IFCHR); archive_entry_set_rdevmajor(e, 1); archive_entry_set_rdevminor(e, 3); break;
            default: archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_size(e, static_cast<la_int64_t>(t.body.size()));
        }
        REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
        if (t.type == 'f') archive_write_data(a, t.body.data(), t.body.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

// Extracts TAR into DIR through a pipe, as cp does.
Status extract_into(const std::string& tar, const std::string& dir, const ExtractOptions& o) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    UniqueFd rd(p[0]), wr(p[1]);
    REQUIRE(tar.size() < 60000);  // fits the pipe: written before it is read
    REQUIRE(::write(wr.get(), tar.data(), tar.size()) == static_cast<ssize_t>(tar.size()));
    wr.reset();
    UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(d.valid());
    return extract_tar(rd.get(), d.get(), o);
}

bool is_symlink(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace

TEST_CASE("cp paths: CONTAINER:PATH or a local path, as Docker's splitCpArg") {
    CHECK(split_cp_arg("web:/etc/hosts").container == "web");
    CHECK(split_cp_arg("web:/etc/hosts").path == "/etc/hosts");
    CHECK(split_cp_arg("web:etc").path == "etc");
    CHECK(split_cp_arg("/abs/file:name").container.empty());  // absolute: local
    CHECK(split_cp_arg("./file:name").container.empty());     // explicit relative: local
    CHECK(split_cp_arg("file").container.empty());
    CHECK(split_cp_arg("-").path == "-");
    CHECK(split_cp_arg("web:").container == "web");
    CHECK(split_cp_arg("web:").path.empty());
}

TEST_CASE("cp paths: filepath.Clean, trailing '/' and '/.' kept, SplitPathDirEntry") {
    CHECK(go_clean("") == ".");
    CHECK(go_clean("/") == "/");
    CHECK(go_clean("/..") == "/");
    CHECK(go_clean("a//b/../c/") == "a/c");
    CHECK(go_clean("../x") == "../x");
    CHECK(go_clean("/d/./f/") == "/d/f");

    CHECK(preserve_trailing_dot_or_separator("/d", "/d/.") == "/d/.");
    CHECK(preserve_trailing_dot_or_separator("/d", "d/") == "/d/");
    CHECK(preserve_trailing_dot_or_separator("/", "/") == "/");
    CHECK(preserve_trailing_dot_or_separator("/d/f", "d/f") == "/d/f");

    CHECK(asserts_directory("/d/"));
    CHECK(asserts_directory("/d/."));
    CHECK_FALSE(asserts_directory("/d"));
    CHECK_FALSE(asserts_directory("/d/.x"));

    CHECK(split_path_dir_entry("/a/b/") == std::make_pair(std::string("/a"), std::string("b")));
    CHECK(split_path_dir_entry("/a/b/.") == std::make_pair(std::string("/a/b"), std::string(".")));
    CHECK(split_path_dir_entry("/") == std::make_pair(std::string("/"), std::string("/")));
    CHECK(split_path_dir_entry("f") == std::make_pair(std::string("."), std::string("f")));
}

// Docker's documentation table for `docker cp SRC DEST`, row by row.
TEST_CASE("cp paths: where a copy lands (Docker's documented table)") {
    const CopyInfo file{"/c/f", true, false, ""};
    const CopyInfo dir{"/c/d", true, true, ""};
    const CopyInfo dir_contents{"/c/d/.", true, true, ""};

    // SRC is a file. DEST missing: saved as DEST.
    auto p = plan_copy(file, {"/h/new", false, false, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h");
    CHECK(p->top_name == "new");
    // DEST missing and ends with '/': the destination directory must exist.
    auto missing_dir = plan_copy(file, {"/h/new/", false, false, ""});
    REQUIRE_FALSE(missing_dir);
    CHECK(missing_dir.error().message == "no such directory");
    CHECK(missing_dir.error().exit_code == 1);
    // DEST exists and is a file: overwritten.
    p = plan_copy(file, {"/h/old", true, false, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h");
    CHECK(p->top_name == "old");
    // DEST exists and is a directory: copied into it under its own name.
    p = plan_copy(file, {"/h/dir", true, true, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h/dir");
    CHECK(p->top_name == "f");

    // SRC is a directory. DEST missing: made as a copy of SRC.
    p = plan_copy(dir, {"/h/new", false, false, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h");
    CHECK(p->top_name == "new");
    // DEST exists and is a file: an error.
    auto onto_file = plan_copy(dir, {"/h/old", true, false, ""});
    REQUIRE_FALSE(onto_file);
    CHECK(onto_file.error().message == "cannot copy directory");
    // DEST is a directory, SRC does not end in "/.": copied into it.
    p = plan_copy(dir, {"/h/dir", true, true, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h/dir");
    CHECK(p->top_name == "d");
    // ... SRC ends in "/.": its contents are copied into DEST.
    p = plan_copy(dir_contents, {"/h/dir", true, true, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h/dir");
    CHECK(p->top_name == ".");
    p = plan_copy(dir_contents, {"/h/new", false, false, ""});
    REQUIRE(p);
    CHECK(p->dest_dir == "/h");
    CHECK(p->top_name == "new");

    // The root of the container is archived as its contents.
    CHECK(archive_top_name({"/", true, true, ""}) == ".");
    CHECK(archive_top_name({"/c/link", true, false, "link"}) == "link");
}

TEST_CASE("cp paths: a host destination Docker refuses before copying") {
    Dir d;
    CHECK(validate_output_path(d.base + "/missing/x") ==
          "invalid output path: directory \"" + d.base + "/missing\" does not exist");
    CHECK(validate_output_path("/dev/null") ==
          "invalid output path: \"/dev/null\" must be a directory or a regular file: got a device");
    CHECK(validate_output_path(d.base + "/new").empty());
    CHECK(validate_output_path(d.base).empty());
}

TEST_CASE("cp tar: Docker's sizes, symlinks archived as links, hard links as links") {
    Dir d;
    const std::string tree = d.base + "/t";
    REQUIRE(make_dirs(tree + "/sub"));
    REQUIRE(write_file(tree + "/f", "hi\n"));
    REQUIRE(write_file(tree + "/sub/g", "x\n"));
    REQUIRE(::symlink("/etc/passwd", (tree + "/lnk").c_str()) == 0);
    REQUIRE(::link((tree + "/f").c_str(), (tree + "/hard").c_str()) == 0);

    // One small file: header, one data block, two zero blocks: 2048 bytes ("2.05kB").
    UniqueFd f(::open((tree + "/f").c_str(), O_PATH | O_CLOEXEC));
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd a(sv[0]), b(sv[1]);
    auto bytes = write_tree_tar({f.get(), "f"}, a.get(), "test");
    REQUIRE(bytes);
    CHECK(*bytes == 2048);

    // The tree, then extracted elsewhere: the link is a link to the same text, never its target.
    UniqueFd top(::open(tree.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    const std::string tar_path = d.base + "/t.tar";
    UniqueFd out(::open(tar_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    auto tree_bytes = write_tree_tar({top.get(), "t"}, out.get(), "test");
    REQUIRE(tree_bytes);
    struct stat st;
    REQUIRE(::stat(tar_path.c_str(), &st) == 0);
    CHECK(*tree_bytes == st.st_size);
    // t/, f (2 blocks), hard (a link: 1), lnk (1), sub/, sub/g (2), end (2) = 10 blocks.
    CHECK(st.st_size == 10 * 512);

    const std::string into = d.base + "/into";
    REQUIRE(make_dirs(into));
    UniqueFd in(::open(tar_path.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd into_fd(::open(into.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ExtractOptions o;
    o.shown_dir = into;
    REQUIRE(extract_tar(in.get(), into_fd.get(), o));
    CHECK(read_file(into + "/t/f").value() == "hi\n");
    CHECK(read_file(into + "/t/sub/g").value() == "x\n");
    CHECK(is_symlink(into + "/t/lnk"));
    struct stat s1, s2;
    REQUIRE(::stat((into + "/t/f").c_str(), &s1) == 0);
    REQUIRE(::stat((into + "/t/hard").c_str(), &s2) == 0);
    CHECK(s1.st_ino == s2.st_ino);
}

TEST_CASE("cp tar: entries that climb out, or go through a symlink, are refused; the host stays as it was") {
    Dir d;
    const std::string into = d.base + "/into", beside = d.base + "/beside";
    REQUIRE(make_dirs(into));
    REQUIRE(make_dirs(beside));
    ExtractOptions o;
    o.shown_dir = "/dest";

    auto climb = extract_into(make_tar({{"../beside/x", 'f', "escaped"}}), into, o);
    REQUIRE_FALSE(climb);
    CHECK(climb.error().message == "\"../beside/x\" is outside of \"/dest\"");
    CHECK_FALSE(path_exists(beside + "/x"));

    auto deep = extract_into(make_tar({{"a/../../beside/y", 'f', "escaped"}}), into, o);
    REQUIRE_FALSE(deep);
    CHECK_FALSE(path_exists(beside + "/y"));

    // An absolute symlink, then a file through it: the link is made, the file is refused.
    auto through = extract_into(make_tar({{"out", 'l', beside}, {"out/z", 'f', "escaped"}}), into, o);
    REQUIRE_FALSE(through);
    CHECK(through.error().message.find("through the symbolic link \"/dest/out\"") != std::string::npos);
    CHECK(is_symlink(into + "/out"));
    CHECK_FALSE(path_exists(beside + "/z"));

    // A relative one climbing out: the same.
    auto rel = extract_into(make_tar({{"up", 'l', "../beside"}, {"up/w", 'f', "escaped"}}), into, o);
    REQUIRE_FALSE(rel);
    CHECK_FALSE(path_exists(beside + "/w"));

    // A hard link to a file outside: refused, not linked.
    REQUIRE(write_file(beside + "/secret", "host\n"));
    auto hard = extract_into(make_tar({{"h", 'h', "../beside/secret"}}), into, o);
    REQUIRE_FALSE(hard);
    CHECK_FALSE(path_exists(into + "/h"));

    // An absolute name lands inside the directory, as Docker's join does.
    REQUIRE(extract_into(make_tar({{"/etc/x", 'f', "inside"}}), into, o));
    CHECK(read_file(into + "/etc/x").value() == "inside");
    CHECK(::access((beside + "/x").c_str(), F_OK) != 0);
}

TEST_CASE("cp tar: Docker's overwrite rules, and what a copy to the host does not make") {
    Dir d;
    const std::string into = d.base + "/into";
    REQUIRE(make_dirs(into + "/dir"));
    REQUIRE(write_file(into + "/file", "old"));
    ExtractOptions o;
    o.shown_dir = "/dest";

    auto over_dir = extract_into(make_tar({{"dir", 'f', "x"}}), into, o);
    REQUIRE_FALSE(over_dir);
    CHECK(over_dir.error().message == "cannot overwrite directory \"/dest/dir\" with non-directory \"/dest\"");
    auto over_file = extract_into(make_tar({{"file", 'd', ""}}), into, o);
    REQUIRE_FALSE(over_file);
    CHECK(over_file.error().message == "cannot overwrite non-directory \"/dest/file\" with directory \"/dest\"");
    CHECK(read_file(into + "/file").value() == "old");

    // A file over a file: replaced.
    REQUIRE(extract_into(make_tar({{"file", 'f', "new"}}), into, o));
    CHECK(read_file(into + "/file").value() == "new");

    // The host side makes no device node.
    o.allow_devices = false;
    auto dev = extract_into(make_tar({{"mem", 'c', ""}}), into, o);
    REQUIRE_FALSE(dev);
    CHECK(dev.error().message.find("refusing to make the device node \"/dest/mem\"") != std::string::npos);
    CHECK_FALSE(path_exists(into + "/mem"));
}
