// Images through the real binary: history, tag and rmi with Docker's wording, and layers shared
// between tags of one image.
#include <doctest/doctest.h>

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
