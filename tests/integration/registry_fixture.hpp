// A real registry for the pull tests: Debian's docker-registry (the CNCF distribution registry)
// started by the test on a free 127.0.0.1 port with a temporary storage folder, plain HTTP, TLS
// (a CA the test makes with the openssl CLI), htpasswd Basic auth, or token auth (`auth: token:`)
// with TokenIssuer below as its token server. Nothing here reaches beyond 127.0.0.1. The registry
// process is the test's own child, stopped by its pid.
#pragma once

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/engine/credential_store.hpp"

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
        // Token auth (distribution's `auth: token:`): the issuer's URL, the service (the tokens'
        // audience), the issuer's name and its certificate (PEM), which verifies the tokens.
        std::string token_realm, token_service, token_issuer, token_cert;
    };
    explicit LocalRegistry(const std::string& dir, Options o = {}) : dir_(dir) {
        std::filesystem::create_directories(dir_ + "/data");
        port_ = free_local_port();
        std::string cfg = "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " + dir_ +
                          "/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n";
        if (!o.tls_cert.empty()) cfg += "  tls:\n    certificate: " + o.tls_cert + "\n    key: " + o.tls_key + "\n";
        if (!o.htpasswd.empty()) cfg += "auth:\n  htpasswd:\n    realm: isolab-test\n    path: " + o.htpasswd + "\n";
        if (!o.token_realm.empty())
            cfg += "auth:\n  token:\n    realm: " + o.token_realm + "\n    service: " + o.token_service +
                   "\n    issuer: " + o.token_issuer + "\n    rootcertbundle: " + o.token_cert + "\n";
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

// A token server for docker-registry's token auth, as distribution's token spec describes it
// (docs/spec/auth/token.md, registry/auth/token): an HTTP/1.1 server in a thread of the test on
// 127.0.0.1 answering GET /token?service=…&scope=…&account=… . Basic credentials that match a user
// get every action the scopes ask for; no credentials get a token granting nothing (Docker Hub's
// anonymous token); wrong credentials get 401 with Docker Hub's {"details": "incorrect username or
// password"}. Tokens are JWTs signed RS256 with the test's own key (libcrypto signs; the key and a
// self-signed certificate come from the openssl CLI), the certificate in the header's "x5c" (the
// registry verifies it against its rootcertbundle, the same certificate), iss/sub/aud/exp/nbf/iat/
// jti and the "access" list. Every request's head is recorded.
class TokenIssuer {
public:
    // Makes DIR/issuer.key and DIR/issuer.crt with the openssl CLI and starts serving.
    TokenIssuer(const std::string& dir, std::map<std::string, std::string> users) : users_(std::move(users)) {
        std::filesystem::create_directories(dir);
        key_file_ = dir + "/issuer.key";
        cert_file_ = dir + "/issuer.crt";
        auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_file_,
                                 "-out", cert_file_, "-days", "2", "-subj", "/CN=" + std::string(kIssuer)},
                                {}, 60000);
        ok_ = made.code == 0 && load_key();
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0 &&
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TokenIssuer() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        if (thread_.joinable()) thread_.join();
        if (key_) EVP_PKEY_free(key_);
    }
    static constexpr const char* kIssuer = "isolab-test-issuer";
    static constexpr const char* kService = "isolab-test-registry";

    bool ok() const { return ok_ && port_ > 0; }
    std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
    const std::string& cert_file() const { return cert_file_; }
    LocalRegistry::Options registry_options() const { return {"", "", "", realm(), kService, kIssuer, cert_file_}; }
    // Request lines ("GET /token?… HTTP/1.1") and whether each carried Basic credentials.
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> l(mu_);
        return requests_;
    }

private:
    static std::string b64url(const std::string& bytes) {
        std::string s = isolab::base64_encode(bytes);
        for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
        while (!s.empty() && s.back() == '=') s.pop_back();
        return s;
    }
    static std::string unescape(const std::string& s) {
        std::string out;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '%' && i + 2 < s.size()) {
                out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
                i += 2;
            } else {
                out += s[i] == '+' ? ' ' : s[i];
            }
        }
        return out;
    }

    bool load_key() {
        std::FILE* f = std::fopen(key_file_.c_str(), "re");
        if (!f) return false;
        key_ = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        f = std::fopen(cert_file_.c_str(), "re");
        if (!f) return false;
        X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        if (!cert || !key_) return false;
        unsigned char* der = nullptr;
        int n = i2d_X509(cert, &der);
        if (n > 0) cert_der_b64_ = isolab::base64_encode(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(n)));
        OPENSSL_free(der);
        X509_free(cert);
        return n > 0;
    }

    // header.claims.signature, RS256 over "header.claims" (libcrypto's EVP_DigestSign).
    std::string sign(const nlohmann::json& claims) {
        nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_b64_}}};
        std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t len = 0;
        std::string sig;
        if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
            sig.resize(len);
            if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                               reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1)
                sig.resize(len);
            else
                sig.clear();
        }
        EVP_MD_CTX_free(ctx);
        return input + "." + b64url(sig);
    }

    void serve() {
        while (!stop_) {
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                if (stop_) return;
                continue;
            }
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, static_cast<size_t>(n));
            }
            std::string reply = answer(req);
            size_t done = 0;
            while (done < reply.size()) {
                ssize_t n = ::write(c, reply.data() + done, reply.size() - done);
                if (n <= 0) break;
                done += static_cast<size_t>(n);
            }
            ::shutdown(c, SHUT_WR);
            while (::read(c, buf, sizeof buf) > 0) {
            }
            ::close(c);
        }
    }

    std::string answer(const std::string& req) {
        const std::string line = req.substr(0, req.find("\r\n"));
        {
            std::lock_guard<std::mutex> l(mu_);
            requests_.push_back(line);
        }
        size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
        std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::string path = target.substr(0, target.find('?'));
        std::vector<std::pair<std::string, std::string>> params;
        if (size_t q = target.find('?'); q != std::string::npos) {
            std::string query = target.substr(q + 1);
            for (size_t start = 0; start <= query.size();) {
                size_t amp = query.find('&', start);
                std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
                size_t eq = kv.find('=');
                if (!kv.empty()) params.emplace_back(unescape(kv.substr(0, eq)), eq == std::string::npos ? "" : unescape(kv.substr(eq + 1)));
                if (amp == std::string::npos) break;
                start = amp + 1;
            }
        }
        auto respond = [](int status, const std::string& body) {
            return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Unauthorized") +
                   "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\nConnection: close\r\n\r\n" + body;
        };
        if (path != "/token") return respond(404, "{}");
        // Basic credentials, checked against the users.
        std::string subject;
        size_t auth = req.find("\r\nAuthorization: Basic ");
        if (auth != std::string::npos) {
            size_t start = auth + 23, end = req.find("\r\n", start);
            auto decoded = isolab::base64_decode_strict(req.substr(start, end - start));
            size_t colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos) return respond(401, R"({"details":"incorrect username or password"})");
            auto user = users_.find(decoded->substr(0, colon));
            if (user == users_.end() || user->second != decoded->substr(colon + 1))
                return respond(401, R"({"details":"incorrect username or password"})");
            subject = user->first;
        }
        nlohmann::json access = nlohmann::json::array();
        if (!subject.empty())
            for (const auto& [k, v] : params) {
                if (k != "scope") continue;
                // repository:NAME:ACTION[,ACTION]: the name may hold ':' (a port), the actions not.
                size_t first = v.find(':'), last = v.rfind(':');
                if (first == std::string::npos || first == last) continue;
                nlohmann::json actions = nlohmann::json::array();
                std::string list = v.substr(last + 1);
                for (size_t start = 0; start <= list.size();) {
                    size_t comma = list.find(',', start);
                    actions.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                }
                access.push_back({{"type", v.substr(0, first)}, {"name", v.substr(first + 1, last - first - 1)}, {"actions", actions}});
            }
        const long now = static_cast<long>(std::time(nullptr));
        nlohmann::json claims = {{"iss", kIssuer},   {"sub", subject},      {"aud", kService},
                                 {"exp", now + 300}, {"nbf", now - 10},     {"iat", now},
                                 {"jti", std::to_string(now) + "-" + std::to_string(++serial_)},
                                 {"access", access}};
        std::string token = sign(claims);
        return respond(200, nlohmann::json{{"token", token}, {"access_token", token}, {"expires_in", 300}}.dump());
    }

    std::map<std::string, std::string> users_;
    std::string key_file_, cert_file_, cert_der_b64_;
    EVP_PKEY* key_ = nullptr;
    bool ok_ = false;
    int fd_ = -1;
    int port_ = 0;
    int serial_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<std::string> requests_;
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
