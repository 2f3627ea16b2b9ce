// The credential file `isolab login` writes (sim/engine/credential_store.hpp): base64 as Go's
// StdEncoding, Docker's keys, mode 0600 whatever the umask, other keys kept, the file replaced
// atomically (a reader sees the old or the new file), a file that is not JSON left alone, and
// what load_registry_credentials (pull's reader) finds afterwards.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sim/engine/credential_store.hpp"

using namespace isolab;
namespace fs = std::filesystem;

namespace {

// XDG_CONFIG_HOME pointed at a fresh folder (without isolab/ in it) for one test case.
struct FreshConfig {
    std::string path;
    FreshConfig() {
        char tmpl[] = "/tmp/isl-creds.XXXXXX";
        path = ::mkdtemp(tmpl);
        ::setenv("XDG_CONFIG_HOME", path.c_str(), 1);
    }
    ~FreshConfig() {
        ::unsetenv("XDG_CONFIG_HOME");
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file() const { return path + "/isolab/config.json"; }
    std::string read() const {
        std::ifstream f(file());
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
};

mode_t mode_of(const std::string& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("credential store: base64 is Go's StdEncoding, both ways, and the decoder is strict") {
    // RFC 4648's test vectors.
    const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                           {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (auto [plain, coded] : vectors) {
        CHECK(base64_encode(plain) == coded);
        auto back = base64_decode_strict(coded);
        REQUIRE(back.ok());
        CHECK(*back == plain);
    }
    CHECK(base64_encode("alice:secret") == "YWxpY2U6c2VjcmV0");  // what `docker login` wrote (measured)
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    auto round = base64_decode_strict(base64_encode(all));
    REQUIRE(round.ok());
    CHECK(*round == all);
    for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v!A==", "=Zm9", "Zg==Zg==", "Zm-v", "Zm_v"}) {
        INFO(bad);
        CHECK_FALSE(base64_decode_strict(bad).ok());
    }
}

TEST_CASE("credential store: Docker's keys for login and logout") {
    CHECK(credential_key("") == "https://index.docker.io/v1/");
    CHECK(credential_key("docker.io") == "https://index.docker.io/v1/");
    CHECK(credential_key("127.0.0.1:5000") == "127.0.0.1:5000");
    CHECK(credential_key("https://127.0.0.1:5000/v2/") == "127.0.0.1:5000");
    CHECK(credential_key("http://reg.example.com/x") == "reg.example.com");
    CHECK(credential_key("index.docker.io") == "index.docker.io");
    CHECK(credential_domain(kDockerHubAuthKey) == "docker.io");
    CHECK(credential_domain("index.docker.io") == "docker.io");
    CHECK(credential_domain("127.0.0.1:5000") == "127.0.0.1:5000");
}

TEST_CASE("credential store: the file is created 0600 under umask 0 in a 0700 folder, in Docker's shape") {
    FreshConfig cfg;
    const mode_t old = ::umask(0);
    bool changed = false;
    auto st = store_credentials("127.0.0.1:5000", {"alice", "s3cret"}, &changed);
    ::umask(old);
    REQUIRE(st.ok());
    CHECK(changed);
    CHECK(mode_of(cfg.file()) == 0600);
    CHECK(mode_of(cfg.path + "/isolab") == 0700);
    auto j = nlohmann::json::parse(cfg.read());
    CHECK(j == nlohmann::json::parse(R"({"auths": {"127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"}}})"));
    CHECK(cfg.read().find("\n\t\"auths\"") != std::string::npos);  // tab-indented, as Docker writes it
    // pull's reader finds them; storing the same again writes nothing.
    auto loaded = load_registry_credentials("127.0.0.1:5000");
    REQUIRE(loaded.ok());
    CHECK(loaded->username == "alice");
    CHECK(loaded->password == "s3cret");
    const auto before = fs::last_write_time(cfg.file());
    struct stat s1 {};
    ::stat(cfg.file().c_str(), &s1);
    REQUIRE(store_credentials("127.0.0.1:5000", {"alice", "s3cret"}, &changed).ok());
    CHECK_FALSE(changed);
    struct stat s2 {};
    ::stat(cfg.file().c_str(), &s2);
    CHECK(s1.st_ino == s2.st_ino);
    CHECK(fs::last_write_time(cfg.file()) == before);
}

TEST_CASE("credential store: other keys and entries are kept; a loose mode is made 0600; logout's erase") {
    FreshConfig cfg;
    fs::create_directories(cfg.path + "/isolab");
    {
        std::ofstream f(cfg.file());
        f << R"({"auths": {"other.example.com": {"auth": "Ym9iOnB3"}, "https://index.docker.io/v1/": {"auth": "aHViOmh1Yg=="}},
                 "psFormat": "table {{.ID}}", "credsStore": "", "x-custom": [1, 2, 3]})";
    }
    ::chmod(cfg.file().c_str(), 0644);
    REQUIRE(store_credentials("127.0.0.1:5000", {"alice", "pw:with:colons"}).ok());
    CHECK(mode_of(cfg.file()) == 0600);
    auto j = nlohmann::json::parse(cfg.read());
    CHECK(j["psFormat"] == "table {{.ID}}");
    CHECK(j["x-custom"] == nlohmann::json::array({1, 2, 3}));
    CHECK(j["credsStore"] == "");
    CHECK(j["auths"]["other.example.com"]["auth"] == "Ym9iOnB3");
    auto stored = read_stored_credentials("127.0.0.1:5000");
    REQUIRE(stored.ok());
    CHECK(stored->username == "alice");
    CHECK(stored->password == "pw:with:colons");  // split at the first colon, as Docker
    auto hub = load_registry_credentials("docker.io");
    REQUIRE(hub.ok());
    CHECK(hub->username == "hub");

    auto none = erase_credentials({"nothing.example.com"});
    REQUIRE(none.ok());
    CHECK(*none == 0);
    auto gone = erase_credentials({"127.0.0.1:5000", "http://127.0.0.1:5000", "https://127.0.0.1:5000"});
    REQUIRE(gone.ok());
    CHECK(*gone == 1);
    j = nlohmann::json::parse(cfg.read());
    CHECK_FALSE(j["auths"].contains("127.0.0.1:5000"));
    CHECK(j["auths"].contains("other.example.com"));
    CHECK(j["psFormat"] == "table {{.ID}}");
    auto after = read_stored_credentials("127.0.0.1:5000");
    REQUIRE(after.ok());
    CHECK(after->username.empty());
}

TEST_CASE("credential store: a file that is not a JSON object is refused and left byte for byte") {
    FreshConfig cfg;
    fs::create_directories(cfg.path + "/isolab");
    for (const char* text : {"{not json", "[1, 2]", R"({"auths": "oops"})"}) {
        INFO(text);
        { std::ofstream(cfg.file()) << text; }
        auto st = store_credentials("127.0.0.1:5000", {"alice", "pw"});
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message.find(cfg.file()) != std::string::npos);
        CHECK(cfg.read() == text);
        CHECK_FALSE(erase_credentials({"127.0.0.1:5000"}).ok());
        CHECK(cfg.read() == text);
    }
}

TEST_CASE("credential store: a reader never sees half a file while logins rewrite it") {
    FreshConfig cfg;
    REQUIRE(store_credentials("seed.example.com", {"seed", std::string(20000, 's')}).ok());
    // A child process rewrites the file 200 times with large entries; the parent reads it
    // meanwhile and must parse every version it sees.
    pid_t child = ::fork();
    if (child == 0) {
        for (int i = 0; i < 200; ++i)
            if (!store_credentials("r" + std::to_string(i % 7) + ".example.com", {"u" + std::to_string(i), std::string(5000 + i, 'p')}).ok())
                ::_exit(1);
        ::_exit(0);
    }
    int reads = 0, broken = 0;
    for (;;) {
        int status = 0;
        pid_t done = ::waitpid(child, &status, WNOHANG);
        std::string text = cfg.read();
        ++reads;
        if (!nlohmann::json::parse(text, nullptr, false).is_object()) ++broken;
        if (done == child) {
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
            break;
        }
    }
    CHECK(reads > 1);
    CHECK(broken == 0);
    // No temporary file is left beside it.
    int entries = 0;
    for (const auto& e : fs::directory_iterator(cfg.path + "/isolab")) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
    auto j = nlohmann::json::parse(cfg.read());
    CHECK(j["auths"].size() == 8);  // seed + r0..r6
}
