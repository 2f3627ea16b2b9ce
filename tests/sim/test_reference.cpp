// Docker's reference grammar (sim/engine/reference.hpp), against the cases of
// distribution/reference's own normalize_test.go and reference_test.go.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/engine/reference.hpp"

using namespace isolab;

namespace {
const std::string kHex = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
}

TEST_CASE("reference: valid repository names (normalize_test.go TestValidateReferenceName)") {
    for (const char* name :
         {"docker/docker", "library/debian", "debian", "docker.io/docker/docker", "docker.io/library/debian",
          "docker.io/debian", "index.docker.io/docker/docker", "index.docker.io/library/debian",
          "index.docker.io/debian", "127.0.0.1:5000/docker/docker", "127.0.0.1:5000/library/debian",
          "127.0.0.1:5000/debian", "192.168.0.1", "192.168.0.1:80", "192.168.0.1:8/debian",
          "192.168.0.2:25000/debian", "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
          "[fc00::1]:5000/docker", "[fc00::1]:5000/docker/docker", "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
          "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "Docker/docker",
          "DOCKER/docker", "docker-rules/docker", "docker---rules/docker", "doc/docker", "d/docker", "jess/t",
          "dock__er/docker"}) {
        CAPTURE(name);
        auto r = parse_reference(name);
        CHECK_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    }
}

TEST_CASE("reference: invalid repository names (TestValidateReferenceName, TestValidateRemoteName)") {
    const std::string long_ns(256, 'a');
    std::vector<std::string> bad{"https://github.com/docker/docker", "docker/Docker", "-docker", "-docker/docker",
                                 "-docker.io/docker/docker", "docker///docker", "docker.io/docker/Docker",
                                 "docker.io/docker///docker", "[fc00::1]", "[fc00::1]:5000", "fc00::1:5000/debian",
                                 "[fe80::1%eth0]:5000/debian", "[2001:db8:3:4::192.0.2.33]:5000/debian",
                                 "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "docker-/docker",
                                 "-docker-/docker", "____/____", "_docker/_docker", "dock..er/docker",
                                 "dock_.er/docker", "dock-.er/docker", "docker/", "", "busybox:", ":latest",
                                 long_ns + "/docker", "a:" + std::string(129, 't')};
    for (const auto& name : bad) {
        CAPTURE(name);
        CHECK_FALSE(parse_reference(name).ok());
    }
}

TEST_CASE("reference: Docker's error words") {
    auto upper = parse_reference("Nginx");
    REQUIRE_FALSE(upper.ok());
    CHECK(upper.error().message == "invalid reference format: repository name (library/Nginx) must be lowercase");
    auto upper2 = parse_reference("docker/Docker:v1");
    REQUIRE_FALSE(upper2.ok());
    CHECK(upper2.error().message == "invalid reference format: repository name (docker/Docker) must be lowercase");
    auto dash = parse_reference("-docker");
    REQUIRE_FALSE(dash.ok());
    CHECK(dash.error().message == "invalid reference format");
    auto hex = parse_reference(kHex);
    REQUIRE_FALSE(hex.ok());
    CHECK(hex.error().message == "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings");
    auto too_long = parse_reference(std::string(250, 'a'));
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.error().message == "repository name must not be more than 255 characters");
    auto short_digest = parse_reference("busybox@sha256:" + kHex.substr(0, 40));
    REQUIRE_FALSE(short_digest.ok());
    CHECK(short_digest.error().message == "invalid checksum digest length");
    auto algo = parse_reference("busybox@md5:" + kHex);
    REQUIRE_FALSE(algo.ok());
    CHECK(algo.error().message == "unsupported digest algorithm");
}

TEST_CASE("reference: domain, path and familiar name (TestParseRepositoryInfo, TestNormalizedSplitHostname)") {
    struct Row {
        const char* input;
        const char* domain;
        const char* path;
        const char* familiar;
        const char* full;
    };
    const Row rows[] = {
        {"fooo/bar", "docker.io", "fooo/bar", "fooo/bar", "docker.io/fooo/bar"},
        {"index.docker.io/fooo/bar", "docker.io", "fooo/bar", "fooo/bar", "docker.io/fooo/bar"},
        {"ubuntu", "docker.io", "library/ubuntu", "ubuntu", "docker.io/library/ubuntu"},
        {"library/ubuntu", "docker.io", "library/ubuntu", "ubuntu", "docker.io/library/ubuntu"},
        {"docker.io/library/ubuntu", "docker.io", "library/ubuntu", "ubuntu", "docker.io/library/ubuntu"},
        {"other/library", "docker.io", "other/library", "other/library", "docker.io/other/library"},
        {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "127.0.0.1:8000/private/moonbase",
         "127.0.0.1:8000/private/moonbase"},
        {"example.com:8000/privatebasee", "example.com:8000", "privatebasee", "example.com:8000/privatebasee",
         "example.com:8000/privatebasee"},
        {"ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "ubuntu-12.04-base",
         "docker.io/library/ubuntu-12.04-base"},
        {"docker.io/foo", "docker.io", "library/foo", "foo", "docker.io/library/foo"},
        {"library/foo/bar", "docker.io", "library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar"},
        {"store/foo/bar", "docker.io", "store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar"},
        {"Foo/bar", "Foo", "bar", "Foo/bar", "Foo/bar"},
        {"FOO/bar", "FOO", "bar", "FOO/bar", "FOO/bar"},
        {"test_com/foo", "docker.io", "test_com/foo", "test_com/foo", "docker.io/test_com/foo"},
        {"test-com:8080/foo", "test-com:8080", "foo", "test-com:8080/foo", "test-com:8080/foo"},
        {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo"},
        {"localhost/app", "localhost", "app", "localhost/app", "localhost/app"},
        {"localhost:5000/a/b", "localhost:5000", "a/b", "localhost:5000/a/b", "localhost:5000/a/b"},
        {"[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "[fc00::1]:5000/docker", "[fc00::1]:5000/docker"},
        {"isolab/web", "docker.io", "isolab/web", "isolab/web", "docker.io/isolab/web"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.input);
        auto r = parse_reference(row.input);
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->domain == row.domain);
        CHECK(r->path == row.path);
        CHECK(r->familiar_name() == row.familiar);
        CHECK(r->full() == std::string(row.full));
        CHECK(r->tag.empty());
        CHECK(r->digest.empty());
    }
}

TEST_CASE("reference: tags, digests and the default tag (TestParseAnyReference, TestParseReferenceWithTagAndDigest)") {
    auto both = parse_reference("busybox:latest@sha256:" + kHex);
    REQUIRE(both.ok());
    CHECK(both->full() == "docker.io/library/busybox:latest@sha256:" + kHex);
    CHECK(both->familiar() == "busybox:latest@sha256:" + kHex);
    CHECK(both->manifest_reference() == "sha256:" + kHex);

    auto digest = parse_reference_with_default_tag("dmcgowan/myapp@sha256:" + kHex);
    REQUIRE(digest.ok());
    CHECK(digest->tag.empty());  // a digest reference gets no default tag
    CHECK(digest->full() == "docker.io/dmcgowan/myapp@sha256:" + kHex);

    auto plain = parse_reference_with_default_tag("redis");
    REQUIRE(plain.ok());
    CHECK(plain->full() == "docker.io/library/redis:latest");
    CHECK(plain->familiar() == "redis:latest");
    CHECK(plain->manifest_reference() == "latest");

    auto local = parse_reference_with_default_tag("localhost:5000/app:v1");
    REQUIRE(local.ok());
    CHECK(local->familiar() == "localhost:5000/app:v1");
    CHECK(local->repository() == "localhost:5000/app");

    // IsoLab's own local names keep their familiar spelling (the tags file's keys).
    for (const char* name : {"busybox", "isolab/web", "myapp:v2"}) {
        auto r = parse_reference_with_default_tag(name);
        REQUIRE(r.ok());
        std::string want = std::string(name).find(':') == std::string::npos ? std::string(name) + ":latest" : name;
        CHECK(r->familiar() == want);
    }
    auto tag128 = parse_reference("a:" + std::string(128, 't'));
    CHECK(tag128.ok());
    auto not_hex = parse_reference("dbcc1");  // short hex strings are names
    REQUIRE(not_hex.ok());
    CHECK(not_hex->full() == "docker.io/library/dbcc1");
}
