// The one resolver for paths inside a tree someone else controls (sim/core/safe_path.hpp): every
// case crafts the escape (absolute and relative symlinks, "..", dangling links used to create,
// link loops) and checks the host directory beside the tree is untouched. Each case runs twice:
// through openat2(RESOLVE_IN_ROOT) and through the fallback walk.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "sim/core/files.hpp"
#include "sim/core/safe_path.hpp"

using namespace isolab;

namespace {

struct Tree {
    std::string base, root, outside;
    Tree() {
        char tmpl[] = "/tmp/isolab-safe-XXXXXX";
        base = ::mkdtemp(tmpl);
        root = base + "/root";
        outside = base + "/outside";
        ::mkdir(root.c_str(), 0755);
        ::mkdir(outside.c_str(), 0755);
        (void)write_file(outside + "/secret", "host secret\n");
        ::mkdir((root + "/etc").c_str(), 0755);
        (void)write_file(root + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    }
    ~Tree() { (void)remove_tree(base); }
    void link(const std::string& target, const std::string& at) const { REQUIRE(::symlink(target.c_str(), (root + at).c_str()) == 0); }
};

std::string read_fd(int fd) {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

void both_ways(void (*body)()) {
    for (bool walk : {false, true}) {
        CAPTURE(walk);
        safe::force_walk_for_tests(walk);
        body();
    }
    safe::force_walk_for_tests(false);
}

}  // namespace

TEST_CASE("safe path: absolute, relative and .. escapes stay inside the tree") {
    both_ways([] {
        Tree t;
        t.link(t.outside + "/secret", "/abs");           // an absolute host path
        t.link("../../outside/secret", "/etc/rel");      // climbs above the top
        t.link("/etc/passwd", "/good");                   // absolute inside the tree
        auto root = safe::Root::open(t.root);
        REQUIRE(root.ok());
        CHECK_FALSE(root->open("/abs", O_RDONLY).ok());                       // /home/.../secret is not in the tree
        CHECK_FALSE(root->open("/etc/rel", O_RDONLY).ok());
        CHECK_FALSE(root->open("../../outside/secret", O_RDONLY).ok());
        auto good = root->open("/good", O_RDONLY);
        REQUIRE(good.ok());
        CHECK(read_fd(good->get()) == "root:x:0:0::/root:/bin/sh\n");
        auto clamped = root->open("/../../../etc/passwd", O_RDONLY);          // ".." stops at the top
        REQUIRE(clamped.ok());
        CHECK(read_fd(clamped->get()).rfind("root:", 0) == 0);
        CHECK(*root->resolve("/good") == "/etc/passwd");
        CHECK(*root->resolve("/etc/../etc/./passwd") == "/etc/passwd");
    });
}

TEST_CASE("safe path: creating through a dangling symlink creates inside the tree") {
    both_ways([] {
        Tree t;
        t.link(t.outside + "/created", "/etc/hosts");   // an image whose /etc/hosts points at the host
        t.link(t.outside, "/etcdir");                     // an image whose /etc is a host directory
        auto root = safe::Root::open(t.root);
        REQUIRE(root.ok());
        // The link's target directory exists in the tree too (the kernel creates only the last
        // component, inside or out).
        REQUIRE(root->make_dirs(t.outside).ok());
        auto fd = root->open("/etc/hosts", O_WRONLY | O_CREAT, 0644);
        REQUIRE(fd.ok());
        CHECK_FALSE(path_exists(t.outside + "/created"));
        CHECK(path_exists(t.root + t.outside + "/created"));  // the link's target, read inside the tree
        auto dir = root->make_dirs("/etcdir/sub", 0755);
        REQUIRE(dir.ok());
        CHECK_FALSE(path_exists(t.outside + "/sub"));
        CHECK(path_exists(t.root + t.outside + "/sub"));
        t.link("/nowhere/deep", "/dangling");           // dangling: mkdir -p makes its target
        t.link("../rel/target", "/etc/dangling-rel");
        REQUIRE(root->make_dirs("/dangling/x").ok());
        CHECK(path_exists(t.root + "/nowhere/deep/x"));
        REQUIRE(root->make_dirs("/etc/dangling-rel").ok());
        CHECK(path_exists(t.root + "/rel/target"));
        CHECK_FALSE(path_exists("/nowhere"));
        auto parent = root->open_parent("/etcdir/x/y/file", true);
        REQUIRE(parent.ok());
        CHECK(parent->name == "file");
        REQUIRE(::mknodat(parent->dir.get(), "file", S_IFREG | 0600, 0) == 0);
        CHECK(path_exists(t.root + t.outside + "/x/y/file"));
        CHECK_FALSE(path_exists(t.outside + "/x"));
    });
}

TEST_CASE("safe path: O_NOFOLLOW, loops, missing entries and names that are not names") {
    both_ways([] {
        Tree t;
        t.link("loop2", "/loop1");
        t.link("loop1", "/loop2");
        t.link(t.outside + "/secret", "/abs");
        auto root = safe::Root::open(t.root);
        REQUIRE(root.ok());
        auto loop = root->open("/loop1", O_RDONLY);
        REQUIRE_FALSE(loop.ok());
        CHECK(loop.error().message.find("symbolic links") != std::string::npos);
        CHECK_FALSE(root->open("/abs", O_RDONLY | O_NOFOLLOW).ok());
        auto link_itself = root->open("/abs", O_PATH | O_NOFOLLOW);
        REQUIRE(link_itself.ok());
        struct stat st;
        REQUIRE(::fstat(link_itself->get(), &st) == 0);
        CHECK(S_ISLNK(st.st_mode));
        CHECK_FALSE(root->resolve("/nope/x").ok());
        REQUIRE(root->make_dirs(t.outside).ok());
        t.link(t.outside, "/hostdir");
        CHECK(*root->resolve("/hostdir/nope", true) == t.outside + "/nope");  // the parent resolved inside
        CHECK_FALSE(root->open_parent("/etc/..", false).ok());
        CHECK_FALSE(root->open_parent("/", false).ok());
        CHECK(safe::clean_in_root("/../../tmp/x") == "/tmp/x");
        CHECK(safe::clean_in_root("a/./b/../c/") == "/a/c");
        CHECK(safe::clean_in_root("") == "/");
    });
}
