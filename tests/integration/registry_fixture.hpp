// A real registry for the pull tests: Debian's docker-registry (the CNCF distribution registry)
// started by the test on a free 127.0.0.1 port with a temporary storage folder, plain HTTP, TLS
// (a CA the test makes with the openssl CLI) or htpasswd Basic auth. Nothing here reaches beyond
// 127.0.0.1. The registry process is the test's own child, stopped by its pid.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace isolab::test {

inline int free_local_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

// What a registry test needs that a machine may lack; "" when everything is there.
inline std::string registry_tools_missing() {
    if (::geteuid() != 0) return "the registry tests run images: root";
    for (const char* tool : {"/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/openssl"})
        if (::access(tool, X_OK) != 0) return std::string(tool) + " is missing (tools/setup.sh --test installs it)";
    return "";
}

// XDG_CONFIG_HOME for the test process and every isolab it starts: IsoLab's config folder
// (daemon.json, config.json, certs.d) is the test's own, never the user's.
class ConfigHome {
public:
    explicit ConfigHome(const std::string& dir) : dir_(dir) {
        const char* old = std::getenv("XDG_CONFIG_HOME");
        had_ = old != nullptr;
        if (old) old_ = old;
        std::filesystem::create_directories(dir_ + "/isolab");
        ::setenv("XDG_CONFIG_HOME", dir_.c_str(), 1);
    }
    ~ConfigHome() {
        if (had_) ::setenv("XDG_CONFIG_HOME", old_.c_str(), 1);
        else ::unsetenv("XDG_CONFIG_HOME");
    }
    std::string isolab_dir() const { return dir_ + "/isolab"; }

private:
    std::string dir_, old_;
    bool had_ = false;
};

class LocalRegistry {
public:
    struct Options {
        std::string tls_cert, tls_key;  // PEM files: serve HTTPS
        std::string htpasswd;           // an htpasswd file: Basic auth
    };
    explicit LocalRegistry(const std::string& dir, Options o = {}) : dir_(dir) {
        std::filesystem::create_directories(dir_ + "/data");
        port_ = free_local_port();
        std::string cfg = "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " + dir_ +
                          "/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n";
        if (!o.tls_cert.empty()) cfg += "  tls:\n    certificate: " + o.tls_cert + "\n    key: " + o.tls_key + "\n";
        if (!o.htpasswd.empty()) cfg += "auth:\n  htpasswd:\n    realm: isolab-test\n    path: " + o.htpasswd + "\n";
        write_text(dir_ + "/config.yml", cfg);
        std::fflush(nullptr);  // no copy of buffered output in the child
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            std::string log = dir_ + "/registry.log";
            // The access log goes to stdout, errors to stderr: both to the log file.
            if (!std::freopen(log.c_str(), "w", stdout)) ::_exit(126);
            ::dup2(1, 2);
            std::string conf = dir_ + "/config.yml";
            ::execl("/usr/bin/docker-registry", "docker-registry", "serve", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        poll_until(std::chrono::seconds(15), [&] { return local_port_open(port_); });
    }
    ~LocalRegistry() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    bool up() const { return local_port_open(port_); }
    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    const std::string& dir() const { return dir_; }
    // The file holding blob DIGEST ("sha256:<hex>") in the registry's storage.
    std::string blob_file(const std::string& digest) const {
        std::string hex = digest.substr(7);
        return dir_ + "/data/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
    }
    std::string log() const { return read_text(dir_ + "/registry.log"); }

private:
    std::string dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// `isolab save IMAGE` from ROOT, then `skopeo copy` into the registry as NAME ("busybox:latest").
// CERT_DIR: skopeo's --dest-cert-dir for a TLS registry ("" = plain HTTP); CREDS "user:pass".
inline CmdResult push_with_skopeo(const TempRoot& root, const std::string& image, const LocalRegistry& reg,
                                  const std::string& name, const std::string& cert_dir = "",
                                  const std::string& creds = "", const std::vector<std::string>& extra = {}) {
    std::string archive = root.path() + "/push-" + std::to_string(::getpid()) + ".tar";
    auto saved = root.isolab({"save", "-o", archive, image});
    if (saved.code != 0) return saved;
    std::vector<std::string> argv{"/usr/bin/skopeo", "copy", "--quiet"};
    if (cert_dir.empty()) argv.push_back("--dest-tls-verify=false");
    else argv.push_back("--dest-cert-dir=" + cert_dir);
    if (!creds.empty()) argv.push_back("--dest-creds=" + creds);
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("oci-archive:" + archive);
    argv.push_back("docker://" + reg.host() + "/" + name);
    auto r = run_process(argv, {}, 120000);
    std::filesystem::remove(archive);
    return r;
}

}  // namespace isolab::test
