#include "sim/engine/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "sim/core/clock.hpp"

namespace isolab {

std::string default_state_root() {
    if (const char* r = std::getenv("ISOLAB_ROOT"); r && *r) return r;
    if (::geteuid() == 0) return "/var/lib/isolab";
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/isolab";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/tmp") + "/.local/share/isolab";
}

Store::Store(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status Store::ensure_layout() const {
    ISOLAB_TRY_CTX(make_dirs(root_, 0711), "state root");
    ISOLAB_TRY(make_dirs(containers_dir(), 0711));
    ISOLAB_TRY(make_dirs(images_dir(), 0755));
    ISOLAB_TRY(make_dirs(root_ + "/names", 0711));
    return {};
}

Result<FileLock> Store::lock_global() const { return FileLock::acquire(root_ + "/lock"); }

Result<FileLock> Store::lock_container(const std::string& id) const {
    return FileLock::acquire(container_dir(id) + "/lock");
}

Result<ContainerRecord> Store::load(const std::string& id) const {
    auto text = read_file(container_dir(id) + "/container.json");
    if (!text) return text.error();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) return make_error("container " + id + ": corrupt `container.json`");
    return record_from_json(j);
}

Status Store::save(const ContainerRecord& r) const {
    return write_file_atomic(container_dir(r.id) + "/container.json", to_json(r).dump(2) + "\n");
}

std::vector<std::string> Store::list_ids() const {
    std::vector<std::string> ids;
    DIR* d = ::opendir(containers_dir().c_str());
    if (!d) return ids;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.size() == 64 && path_exists(container_dir(n) + "/container.json")) ids.push_back(n);
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::vector<ContainerRecord> Store::list() const {
    std::vector<ContainerRecord> out;
    for (const auto& id : list_ids()) {
        auto r = load(id);
        if (r) out.push_back(std::move(*r));
    }
    return out;
}

Result<ContainerRecord> Store::resolve(const std::string& raw_ref) const {
    std::string ref = raw_ref;
    if (!ref.empty() && ref[0] == '/') ref.erase(0, 1);
    auto not_found = make_error("No such container: " + raw_ref, 1);
    if (ref.empty()) return not_found;
    if (ref.size() == 64 && path_exists(container_dir(ref) + "/container.json")) return load(ref);
    std::string owner;
    if (name_in_use(ref, &owner)) {
        auto r = load(owner);
        if (r) return r;
    }
    std::string match;
    for (const auto& id : list_ids()) {
        if (id.compare(0, ref.size(), ref) == 0) {
            if (!match.empty()) return make_error("multiple IDs found with provided prefix: " + raw_ref, 1);
            match = id;
        }
    }
    if (!match.empty()) return load(match);
    return not_found;
}

bool Store::name_in_use(const std::string& name, std::string* owner_id) const {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return false;
    char buf[128];
    ssize_t n = ::readlink((root_ + "/names/" + name).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return false;
    buf[n] = '\0';
    if (!path_exists(container_dir(buf) + "/container.json")) return false;  // a stale reservation
    if (owner_id) *owner_id = buf;
    return true;
}

Result<bool> Store::reserve_name(const std::string& name, const std::string& id, std::string* owner_id) const {
    std::string link = root_ + "/names/" + name;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (::symlink(id.c_str(), link.c_str()) == 0) return true;
        if (errno != EEXIST) return errno_error("reserve name `" + name + "`", errno);
        if (name_in_use(name, owner_id)) return false;
        ::unlink(link.c_str());  // left by a container that no longer exists
    }
    return make_error("reserve name `" + name + "`: raced with another create");
}

void Store::release_name(const std::string& name, const std::string& id) const {
    std::string link = root_ + "/names/" + name;
    char buf[128];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)) == id) ::unlink(link.c_str());
}

void Store::release_names_of(const std::string& id) const {
    DIR* d = ::opendir((root_ + "/names").c_str());
    if (!d) return;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") release_name(n, id);
    }
    ::closedir(d);
}

void Store::append_event(const std::string& type, nlohmann::json attrs) const {
    append_event_to(root_, type, std::move(attrs));
}

void append_event_to(const std::string& root, const std::string& type, nlohmann::json attrs) {
    attrs["time"] = now_rfc3339();
    attrs["type"] = type;
    std::string line = attrs.dump() + "\n";
    int fd = ::open((root + "/events.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    // One write(2) with O_APPEND keeps concurrent writers' lines whole.
    ssize_t n = ::write(fd, line.data(), line.size());
    (void)n;
    ::close(fd);
}

}  // namespace isolab
