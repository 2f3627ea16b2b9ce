// A registry the test controls byte for byte: an HTTP/1.1 server on 127.0.0.1 in a thread of the
// test process, answering GET PATH from a table (one request per connection, then close). It
// serves what no honest registry would (a blob that is not its digest, a size that lies, a layer
// tar that climbs out), and can demand Docker Hub's Bearer token flow: /v2/ answers 401 with
// `WWW-Authenticate: Bearer realm=…/token,service=tiny,scope=…` and only a request carrying the
// token from /token is served. It can also be a search index (Docker Hub's v1 search API:
// GET /v1/search?q=TERM&n=LIMIT answers the results whose name contains TERM, at most LIMIT of
// them). Every request line is recorded.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/engine/layer_archive.hpp"

namespace isolab::test {

class TinyRegistry {
public:
    struct Reply {
        int status = 200;
        std::string body;
        std::string content_type = "application/octet-stream";
    };

    TinyRegistry() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0 &&
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TinyRegistry() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        if (thread_.joinable()) thread_.join();
    }

    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    // More header lines for PATH's answer, each ending in \r\n ("Last-Modified: …\r\n").
    void set_headers(const std::string& path, const std::string& lines) {
        std::lock_guard<std::mutex> l(mu_);
        headers_[path] = lines;
    }
    void set(const std::string& path, Reply r) {
        std::lock_guard<std::mutex> l(mu_);
        routes_[path] = std::move(r);
    }
    // Serves BYTES as blob sha256(BYTES) of REPO, or under DIGEST when given (a lie).
    std::string blob(const std::string& repo, const std::string& bytes, const std::string& digest = "") {
        std::string d = digest.empty() ? sha256(bytes) : digest;
        set("/v2/" + repo + "/blobs/" + d, Reply{200, bytes});
        return d;
    }
    // What /v1/search knows: objects with name, description, star_count, is_official, is_automated.
    void set_search(const nlohmann::json& results) {
        std::lock_guard<std::mutex> l(mu_);
        search_ = results;
    }
    void require_token(const std::string& token) {
        std::lock_guard<std::mutex> l(mu_);
        token_ = token;
    }
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> l(mu_);
        return requests_;
    }
    // The whole head (request line and headers) of every request.
    std::vector<std::string> heads() {
        std::lock_guard<std::mutex> l(mu_);
        return heads_;
    }
    static std::string sha256(const std::string& bytes) {
        isolab::Sha256Stream h;
        h.update(bytes);
        return "sha256:" + h.hex();
    }

private:
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
            answer(c, req);
            ::shutdown(c, SHUT_WR);
            while (::read(c, buf, sizeof buf) > 0) {
            }
            ::close(c);
        }
    }

    void answer(int c, const std::string& req) {
        std::string line = req.substr(0, req.find("\r\n"));
        size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
        std::string path = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::string query;
        if (size_t q = path.find('?'); q != std::string::npos) {
            query = path.substr(q + 1);
            path.resize(q);
        }
        Reply r{404, "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not here\"}]}", "application/json"};
        std::string extra;
        {
            std::lock_guard<std::mutex> l(mu_);
            requests_.push_back(line);
            heads_.push_back(req.substr(0, req.find("\r\n\r\n")));
            bool authorized = token_.empty() || req.find("Authorization: Bearer " + token_ + "\r\n") != std::string::npos;
            if (!token_.empty() && path == "/token") {
                r = Reply{200, "{\"token\":\"" + token_ + "\",\"expires_in\":300}", "application/json"};
            } else if (!authorized) {
                r = Reply{401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
                          "application/json"};
                extra = "WWW-Authenticate: Bearer realm=\"http://" + host() +
                        "/token\",service=\"tiny\",scope=\"repository:hostile:pull\"\r\n";
            } else if (path == "/v1/search" && search_.is_array()) {
                std::string q;
                size_t n = 25;
                for (size_t start = 0; start <= query.size();) {
                    size_t amp = query.find('&', start);
                    std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
                    if (kv.rfind("q=", 0) == 0) q = kv.substr(2);
                    if (kv.rfind("n=", 0) == 0) n = std::stoul(kv.substr(2));
                    if (amp == std::string::npos) break;
                    start = amp + 1;
                }
                nlohmann::json found = nlohmann::json::array();
                for (const auto& item : search_)
                    if (found.size() < n && item.value("name", std::string()).find(q) != std::string::npos)
                        found.push_back(item);
                r = Reply{200, nlohmann::json{{"num_results", found.size()}, {"query", q}, {"results", found}}.dump(),
                          "application/json"};
            } else if (path == "/v2/") {
                r = Reply{200, "{}", "application/json"};
            } else if (auto it = routes_.find(path); it != routes_.end()) {
                r = it->second;
                if (auto h = headers_.find(path); h != headers_.end()) extra = h->second;
                // `Range: bytes=N-`: 206 with the bytes from N on.
                size_t range = req.find("\r\nRange: bytes=");
                if (r.status == 200 && range != std::string::npos) {
                    size_t from = std::stoul(req.substr(range + 15));
                    if (from < r.body.size()) {
                        extra = "Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(r.body.size() - 1) +
                                "/" + std::to_string(r.body.size()) + "\r\n";
                        r = Reply{206, r.body.substr(from), r.content_type};
                    }
                }
            }
        }
        std::string head = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: " + r.content_type +
                           "\r\nContent-Length: " + std::to_string(r.body.size()) +
                           "\r\nDocker-Distribution-Api-Version: registry/2.0\r\nConnection: close\r\n" + extra + "\r\n";
        std::string all = head + r.body;
        size_t done = 0;
        while (done < all.size()) {
            ssize_t n = ::write(c, all.data() + done, all.size() - done);
            if (n <= 0) return;
            done += static_cast<size_t>(n);
        }
    }

    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::map<std::string, Reply> routes_;
    std::string token_;
    nlohmann::json search_;
    std::vector<std::string> requests_;
    std::map<std::string, std::string> headers_;
    std::vector<std::string> heads_;
};

}  // namespace isolab::test
