#include "sim/engine/credential_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"

namespace isolab {

using nlohmann::json;

namespace {

constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The file as a JSON object; an empty object when there is no file. Never an object made up over
// a file that is not one (the caller would overwrite what it could not read).
Result<json> read_config(const std::string& path) {
    if (!path_exists(path)) return json::object();
    auto text = read_file(path);
    if (!text) return text.error();
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return make_error("`" + path + "`: not a JSON object; IsoLab leaves it as it is");
    if (j.contains("auths") && !j["auths"].is_object())
        return make_error("`" + path + "`: `auths` is not a JSON object; IsoLab leaves the file as it is");
    return j;
}

// Replaces PATH with CONTENT: a new file (O_EXCL, never through a link), mode 0600 set with fchmod
// so that no umask loosens it, synced, then renamed over PATH and the folder synced. Readers see
// the old file or the new one.
Status write_private_atomic(const std::string& path, const std::string& content) {
    const std::string dir = path.substr(0, path.rfind('/'));
    if (!path_exists(dir)) {
        ISOLAB_TRY(make_dirs(dir, 0700));
        ::chmod(dir.c_str(), 0700);  // make_dirs leaves the umask's mode when it makes parents too
    }
    std::random_device rd;
    std::string tmp;
    UniqueFd fd;
    for (int attempt = 0; attempt < 16 && !fd.valid(); ++attempt) {
        tmp = dir + "/.config.json." + std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
        fd = UniqueFd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd.valid() && errno != EEXIST) return errno_error("create `" + tmp + "`", errno);
    }
    if (!fd.valid()) return errno_error("create `" + tmp + "`", EEXIST);
    auto fail = [&](const std::string& what) {
        int err = errno;
        ::unlink(tmp.c_str());
        return errno_error(what + " `" + tmp + "`", err);
    };
    if (::fchmod(fd.get(), 0600) != 0) return fail("chmod");
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail("write");
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail("sync");
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return errno_error("rename `" + tmp + "` to `" + path + "`", err);
    }
    UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirfd.valid()) ::fsync(dirfd.get());
    return {};
}

// Docker writes the file indented with tabs and without a final newline.
std::string config_text(const json& j) { return j.dump(1, '\t'); }

}  // namespace

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                     static_cast<unsigned char>(in[i + 2]);
        out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
        out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
    }
    return out;
}

Result<std::string> base64_decode_strict(std::string_view in) {
    auto bad = [&] { return make_error("illegal base64 data"); };
    if (in.size() % 4 != 0) return bad();
    std::string out;
    for (size_t i = 0; i < in.size(); i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (size_t k = 0; k < 4; ++k) {
            char ch = in[i + k];
            int d;
            if (ch == '=') {
                // Padding only at the end of the text, in its last one or two places.
                if (i + 4 != in.size() || k < 2) return bad();
                ++pad;
                d = 0;
            } else {
                if (pad) return bad();
                const char* at = std::char_traits<char>::find(kAlphabet, 64, ch);
                if (!at) return bad();
                d = static_cast<int>(at - kAlphabet);
            }
            v = v << 6 | static_cast<unsigned>(d);
        }
        out += static_cast<char>(v >> 16);
        if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(v & 0xff);
    }
    return out;
}

std::string credential_key(const std::string& server) {
    if (server.empty() || server == "docker.io") return kDockerHubAuthKey;
    std::string s = server;
    if (s.rfind("http://", 0) == 0) s = s.substr(7);
    else if (s.rfind("https://", 0) == 0) s = s.substr(8);
    return s.substr(0, s.find('/'));
}

std::string credential_domain(const std::string& key) {
    if (key == kDockerHubAuthKey || key == "index.docker.io" || key == "registry-1.docker.io" || key == "docker.io")
        return "docker.io";
    return key;
}

std::string credentials_path() { return isolab_config_dir() + "/config.json"; }

Result<RegistryCredentials> read_stored_credentials(const std::string& key) {
    const std::string path = credentials_path();
    auto j = read_config(path);
    if (!j) return j.error();
    RegistryCredentials none;
    if (!j->contains("auths") || !(*j)["auths"].contains(key)) return none;
    const json& entry = (*j)["auths"][key];
    if (!entry.is_object() || !entry.contains("auth") || !entry["auth"].is_string()) return none;
    auto decoded = base64_decode_strict(entry["auth"].get<std::string>());
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return make_error("`" + path + "`: the credentials for " + key + " are malformed");
    return RegistryCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

Status store_credentials(const std::string& key, const RegistryCredentials& creds, bool* changed) {
    if (changed) *changed = false;
    const std::string path = credentials_path();
    auto j = read_config(path);
    if (!j) return j.error();
    const json entry = {{"auth", base64_encode(creds.username + ":" + creds.password)}};
    json& auths = (*j)["auths"];
    if (auths.is_null()) auths = json::object();
    if (auths.contains(key) && auths[key] == entry) return {};
    auths[key] = entry;
    ISOLAB_TRY(write_private_atomic(path, config_text(*j)));
    if (changed) *changed = true;
    return {};
}

Result<int> erase_credentials(const std::vector<std::string>& keys) {
    const std::string path = credentials_path();
    if (!path_exists(path)) return 0;
    auto j = read_config(path);
    if (!j) return j.error();
    if (!j->contains("auths")) return 0;
    int removed = 0;
    for (const auto& key : keys) removed += static_cast<int>((*j)["auths"].erase(key));
    if (removed == 0) return 0;
    ISOLAB_TRY(write_private_atomic(path, config_text(*j)));
    return removed;
}

}  // namespace isolab
