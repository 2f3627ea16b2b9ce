#include "sim/state/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>

#include "sim/core/clock.hpp"

namespace isolab {

struct Store::Warnings {
    std::mutex mu;
    std::vector<std::string> items;
};

namespace {

// Removes every group and other bit that PRIVATE_MODE does not have (0700 dirs, 0600 files).
// Returns whether the mode had to change. Another owner's file (a root the caller does not own)
// is left alone: what is below it is the owner's to fix.
bool tighten(const std::string& path, mode_t private_mode) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return false;
    mode_t want = (st.st_mode & 07777) & ~(077 & ~private_mode);
    if (want == (st.st_mode & 07777)) return false;
    return ::chmod(path.c_str(), want) == 0;
}

// Every regular file directly in DIR: its records (never a layer's content: layers are image
// content, their modes are what the image says).
void tighten_files_in(const std::string& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file(ec)) tighten(e.path().string(), 0600);
}

std::string rfc3339_of(const struct timespec& ts) {
    struct tm tm;
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char ns[16];
    std::snprintf(ns, sizeof ns, ".%09ldZ", static_cast<long>(ts.tv_nsec));
    return std::string(buf) + ns;
}

}  // namespace

std::string default_state_root() {
    if (const char* r = std::getenv("ISOLAB_ROOT"); r && *r) return r;
    if (::geteuid() == 0) return "/var/lib/isolab";
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/isolab";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/tmp") + "/.local/share/isolab";
}

Store::Store(std::string root) : root_(std::move(root)), warnings_(std::make_shared<Warnings>()) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status Store::ensure_layout() const {
    ISOLAB_TRY_CTX(make_dirs(root_, 0711), "state root");
    // 0711, not 0700: other users reach ROOT/guest through it (see the header). A directory the
    // user pointed ISOLAB_ROOT at that is shared on purpose (sticky, like /tmp) or is not theirs
    // keeps its mode: what IsoLab keeps in it is private below it anyway.
    struct stat root_st;
    if (::stat(root_.c_str(), &root_st) == 0 && root_st.st_uid == ::geteuid() && !(root_st.st_mode & S_ISVTX))
        tighten(root_, 0711);
    bool old_modes = false;
    for (const std::string& d : {containers_dir(), images_dir(), root_ + "/names", root_ + "/networks"}) {
        ISOLAB_TRY_CTX(make_dirs(d, 0700), "state root");
        old_modes = tighten(d, 0700) || old_modes;
    }
    for (const std::string& d : {root_ + "/vms", root_ + "/runc"}) old_modes = tighten(d, 0700) || old_modes;
    for (const char* f : {"events.jsonl", "backend.auto", "lock", "lesson-presenter.json"}) tighten(root_ + "/" + f, 0600);
    // A root made by an older IsoLab (its directories were 0711/0755): its records were written
    // 0644. Once the directories are private nobody else can reach them, but the files are made
    // private too, once, so that a later mode mistake on a directory exposes nothing.
    if (old_modes) {
        for (const auto& id : list_ids()) {
            tighten(record_path(id), 0600);
            tighten(lost_record_path(id), 0600);
        }
        for (const std::string& d : {images_dir(), images_dir() + "/configs", images_dir() + "/build-cache",
                                     root_ + "/networks", root_ + "/networks/leases"})
            tighten_files_in(d);
        tighten(root_ + "/networks/leases", 0700);
        tighten(images_dir() + "/build-cache", 0700);
    }
    return {};
}

bool Store::has_record(const std::string& id) const {
    return path_exists(record_path(id)) || path_exists(lost_record_path(id));
}

bool Store::record_lost(const std::string& id) const {
    return !path_exists(record_path(id)) && path_exists(lost_record_path(id));
}

void Store::warn(std::string text) const {
    std::lock_guard<std::mutex> g(warnings_->mu);
    warnings_->items.push_back(std::move(text));
}

std::vector<std::string> Store::take_warnings() const {
    std::lock_guard<std::mutex> g(warnings_->mu);
    return std::exchange(warnings_->items, {});
}

Result<FileLock> Store::lock_global() const { return FileLock::acquire(root_ + "/lock"); }

Result<FileLock> Store::lock_container(const std::string& id) const {
    return FileLock::acquire(container_dir(id) + "/lock");
}

namespace {

// The record in TEXT, or why it is not one (for the directory of container ID).
Result<ContainerRecord> parse_record(const std::string& text, const std::string& id) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error(text.empty() ? "the file is empty" : "not valid JSON");
    if (!j.is_object()) return make_error("not a JSON object");
    ContainerRecord r;
    try {
        r = record_from_json(j);
    } catch (const nlohmann::json::exception& e) {
        return make_error(std::string("a field has the wrong type (") + e.what() + ")");
    } catch (const std::invalid_argument& e) {
        return make_error(e.what());
    }
    // A record copied from another container would make this one act on that one's processes.
    if (r.id != id) return make_error("it names container `" + r.id + "`, not this directory's");
    return r;
}

}  // namespace

Result<ContainerRecord> Store::load(const std::string& id) const {
    const std::string path = record_path(id);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        if (err == ENOENT && path_exists(lost_record_path(id))) return lost_record(id);
        return errno_error("read `" + path + "`", err);
    }
    auto text = read_file("/proc/self/fd/" + std::to_string(fd.get()));
    if (!text) return text.error();
    auto rec = parse_record(*text, id);
    if (rec) return rec;
    // Only a record that is still the one we read goes aside: a writer may have replaced it
    // (rename over it) since, and then the new one is read instead.
    struct stat read_st, now_st;
    if (::fstat(fd.get(), &read_st) != 0 || ::stat(path.c_str(), &now_st) != 0 || read_st.st_ino != now_st.st_ino ||
        read_st.st_dev != now_st.st_dev) {
        auto again = read_file(path);
        if (again) {
            auto second = parse_record(*again, id);
            if (second) return second;
        }
    }
    return quarantine(id, rec.error().message);
}

Result<ContainerRecord> Store::quarantine(const std::string& id, const std::string& why) const {
    const std::string path = record_path(id), bad = lost_record_path(id);
    if (::rename(path.c_str(), bad.c_str()) != 0 && errno != ENOENT)
        return errno_error("container " + id + ": the record `" + path + "` is corrupt (" + why + ") and cannot be moved aside",
                           errno);
    warn("the record of container " + id.substr(0, 12) + " was corrupt (" + why + "); it was moved to `" + bad +
         "`: the container is shown as Dead, `isolab rm -f " + id.substr(0, 12) + "` removes it");
    append_event("record_corrupt", {{"id", id}, {"kept_as", bad}, {"reason", why}});
    return lost_record(id);
}

ContainerRecord Store::lost_record(const std::string& id) const {
    ContainerRecord r;
    r.id = id;
    r.state = ContainerState::Dead;
    // Nothing may restart it: the monitor reads this flag before a policy restart.
    r.stopped_by_user = true;
    r.exit_code = 255;
    r.spec.image = "";  // unknown: not the spec's default
    r.error = "the record of this container was corrupt and was moved to `" + lost_record_path(id) +
              "`; what it said is unknown (the name comes from `" + root_ + "/names`). `isolab rm -f " + id.substr(0, 12) +
              "` stops whatever still runs in it and removes it";
    // The name: the reservation symlinks that point at this id.
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/names", ec)) {
        if (!e.is_symlink(ec)) continue;
        if (std::filesystem::read_symlink(e.path(), ec).string() == id) names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    if (!names.empty()) r.name = names.front();
    // Created: the container's lock file is made at create and never written again.
    struct stat st;
    if (::stat((container_dir(id) + "/lock").c_str(), &st) == 0 || ::stat(container_dir(id).c_str(), &st) == 0)
        r.created = rfc3339_of(st.st_mtim);
    // runc keeps its own state per container (runtime.hpp's runc_state_dir): its presence says
    // which runtime the container had, and destroy() then asks runc to delete it.
    if (path_exists(root_ + "/runc/" + id)) r.spec.runtime = "runc";
    return r;
}

Status Store::save(const ContainerRecord& r) const {
    // A lost record is never rewritten from what load() made up: the .bad file stays the user's
    // to restore, and a monitor still running cannot bring the container back half-known.
    if (record_lost(r.id))
        return make_error("container " + r.id + ": its record was lost (kept as `" + lost_record_path(r.id) +
                          "`); only `isolab rm -f` applies to it", 1);
    return write_file_atomic(record_path(r.id), to_json(r).dump(2) + "\n");
}

std::vector<std::string> Store::list_ids() const {
    std::vector<std::string> ids;
    DIR* d = ::opendir(containers_dir().c_str());
    if (!d) return ids;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.size() == 64 && has_record(n)) ids.push_back(n);
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
    if (ref.size() == 64 && has_record(ref)) return load(ref);
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
    if (!has_record(buf)) return false;  // a stale reservation (a lost record still holds its name)
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

Status Store::remove_container_dir(const std::string& id) const {
    std::string dir = container_dir(id);
    std::string scratch = containers_dir() + "/" + owned_scratch_name(".removing");
    if (::rename(dir.c_str(), scratch.c_str()) != 0) {
        if (errno == ENOENT) return {};
        return errno_error("remove `" + dir + "`", errno);
    }
    return remove_tree(scratch);
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
    // 0600: the events name every container, its image and its ids (a map to its writable layer).
    int fd = ::open((root + "/events.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    // One write(2) with O_APPEND keeps concurrent writers' lines whole.
    ssize_t n = ::write(fd, line.data(), line.size());
    (void)n;
    ::close(fd);
}

}  // namespace isolab
