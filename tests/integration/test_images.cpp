// Images through the real binary: history, tag and rmi with Docker's wording, and layers shared
// between tags of one image.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <filesystem>

#include "harness.hpp"

using namespace isolab::test;

TEST_CASE("images: history, tag, rmi (refused while a container uses the image), busybox comes back") {
    TempRoot r;
    auto hist = r.isolab({"history", "busybox"});
    REQUIRE(hist.code == 0);
    CHECK(hist.out.find("IMAGE          CREATED") == 0);
    CHECK(hist.out.find("isolab: CMD [\"sh\"]") != std::string::npos);
    CHECK(hist.out.find("<missing>") != std::string::npos);
    std::string id = first_line(r.isolab({"images", "-q"}).out);
    REQUIRE(id.size() == 12);

    CHECK(r.isolab({"tag", "busybox", "mybox:v1"}).code == 0);
    auto images = r.isolab({"images"});
    CHECK(images.out.find("mybox        v1       " + id) != std::string::npos);
    auto untag = r.isolab({"rmi", "mybox:v1"});
    CHECK(untag.code == 0);
    CHECK(untag.out == "Untagged: mybox:v1\n");  // the image stays: busybox still names it
    CHECK(std::filesystem::exists(r.path() + "/images/configs"));

    REQUIRE(r.isolab({"create", "--name", "user1", "busybox", "true"}).code == 0);
    auto refused = r.isolab({"rmi", "busybox"});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("Error response from daemon: conflict: unable to remove repository reference \"busybox\" (must force) - container ") == 0);
    CHECK(r.isolab({"rm", "user1"}).code == 0);
    auto removed = r.isolab({"rmi", "busybox"});
    CHECK(removed.code == 0);
    CHECK(removed.out.find("Untagged: busybox:latest\nDeleted: sha256:") == 0);
    CHECK(r.isolab({"rmi", "nope"}).err == "Error response from daemon: No such image: nope:latest\n");
    // busybox is always there (BRIEF §4): made again from busybox-static, with the same id.
    CHECK(first_line(r.isolab({"images", "-q"}).out) == id);
}

TEST_CASE("commit: a container's writable layer becomes an image layer; deletions stay deleted") {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("commit needs a real container (root)");
        return;
    }
    TempRoot r;
    if (r.isolab({"version"}).out.find("Backend: simulated") != std::string::npos) {
        ISOLAB_SKIP("no real containers here (simulated backend)");
        return;
    }
    auto base = r.isolab({"run", "--name", "base", "busybox", "sh", "-c", "echo '<h1>committed</h1>' > /var/www/index.html; rm /bin/vi"});
    REQUIRE(base.code == 0);
    auto commit = r.isolab({"commit", "-m", "my page", "-c", "CMD [\"cat\", \"/var/www/index.html\"]", "base", "mypage:v1"});
    REQUIRE(commit.code == 0);
    CHECK(commit.out.rfind("sha256:", 0) == 0);
    CHECK(r.isolab({"run", "--rm", "mypage:v1"}).out == "<h1>committed</h1>\n");  // the new CMD, the new file
    CHECK(r.isolab({"run", "--rm", "mypage:v1", "ls", "/bin/vi"}).code != 0);    // the whiteout came along
    CHECK(r.isolab({"run", "--rm", "busybox", "ls", "/bin/vi"}).code == 0);      // the base image is untouched
    auto hist = r.isolab({"history", "mypage:v1"});
    CHECK(hist.out.find("my page") != std::string::npos);
    CHECK(hist.out.find("isolab commit base") != std::string::npos);
    // ONBUILD is one of Docker's change commands: stored in the config, as written.
    auto onbuild = r.isolab({"commit", "-c", "ONBUILD RUN true", "base", "x:y"});
    CHECK(onbuild.code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{json .Config.OnBuild}}", "x:y"}).out == "[\"RUN true\"]\n");
    auto bad = r.isolab({"commit", "-c", "ONBUILD ONBUILD RUN true", "base", "x:z"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed") != std::string::npos);
    CHECK(r.isolab({"commit", "-c", "RUN true", "base", "x:y"}).err.find("RUN is not a valid change command") != std::string::npos);
    // Two images share the busybox layer: removing the commit keeps it.
    auto rm = r.isolab({"rmi", "mypage:v1"});
    CHECK(rm.code == 0);
    CHECK(r.isolab({"run", "--rm", "busybox", "true"}).code == 0);
}
