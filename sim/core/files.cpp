#include "sim/core/files.hpp"

#include <elf.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

namespace isolab {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

Result<FileLock> FileLock::acquire(const std::string& path, bool exclusive) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno_error("lock `" + path + "`", errno);
    FileLock lock;
    lock.fd_.reset(fd);
    while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) return errno_error("lock `" + path + "`", errno);
    }
    return lock;
}

Result<std::string> read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("read `" + path + "`", errno);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `" + path + "`", errno);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

static Status write_all(int fd, const std::string& content, const std::string& path) {
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("write `" + path + "`", errno);
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

Status write_file_atomic(const std::string& path, const std::string& content, mode_t mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd.valid()) return errno_error("write `" + tmp + "`", errno);
        ISOLAB_TRY(write_all(fd.get(), content, tmp));
        // No fsync: rename(2) already gives readers all-or-nothing, which is what concurrent CLI
        // calls need. Durability across a power loss is not needed: after a reboot no container
        // process survives anyway, and the garbage collector reconciles the records.
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return errno_error("rename `" + tmp + "` to `" + path + "`", err);
    }
    return {};
}

Status write_file(const std::string& path, const std::string& content) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return errno_error("write `" + path + "`", errno);
    return write_all(fd.get(), content, path);
}

Status make_dirs(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0) {
        if (errno == EEXIST) return {};
        if (errno != ENOENT) return errno_error("create directory `" + path + "`", errno);
        std::error_code ec;
        std::filesystem::create_directories(path, ec);
        if (ec) return make_error("create directory `" + path + "`: " + ec.message());
    }
    // Only when the umask took bits away: a chmod is one more inode update (a journal write).
    mode_t mask = ::umask(0);
    ::umask(mask);
    if (mode & mask) ::chmod(path.c_str(), mode);
    return {};
}

namespace {
dev_t g_remove_dev;
int remove_entry(const char* p, const struct stat* st, int type, struct FTW*) {
    if (st->st_dev != g_remove_dev) return 0;  // another file system: leave it
    if (type == FTW_DP) return ::rmdir(p) == 0 || errno == ENOENT || errno == EBUSY ? 0 : -1;
    return ::unlink(p) == 0 || errno == ENOENT ? 0 : -1;
}
// overlayfs leaves its work/work directory with mode 000; as an unprivileged owner we must make
// directories readable again before their content can be removed.
int unlock_dir(const char* p, const struct stat* st, int type, struct FTW*) {
    if (st->st_dev == g_remove_dev && (type == FTW_D || type == FTW_DNR)) ::chmod(p, 0700);
    return 0;
}
}  // namespace

Status remove_tree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return errno_error("remove `" + path + "`", errno);
    }
    g_remove_dev = st.st_dev;
    if (::geteuid() != 0 && S_ISDIR(st.st_mode))
        for (int pass = 0; pass < 4; ++pass) ::nftw(path.c_str(), unlock_dir, 64, FTW_PHYS | FTW_MOUNT);
    if (::nftw(path.c_str(), remove_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
        return errno_error("remove `" + path + "`", errno);
    return {};
}

namespace {
template <class Ehdr, class Phdr>
int scan_program_headers(int fd) {
    Ehdr eh;
    if (::pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return -1;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Phdr ph;
        if (::pread(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * eh.e_phentsize)) !=
            static_cast<ssize_t>(sizeof ph))
            return -1;
        if (ph.p_type == PT_INTERP) return 0;
    }
    return 1;
}
}  // namespace

int elf_is_static(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return -1;
    unsigned char ident[EI_NIDENT];
    if (::pread(fd.get(), ident, sizeof ident, 0) != static_cast<ssize_t>(sizeof ident) ||
        std::memcmp(ident, ELFMAG, SELFMAG) != 0)
        return -1;
    if (ident[EI_CLASS] == ELFCLASS64) return scan_program_headers<Elf64_Ehdr, Elf64_Phdr>(fd.get());
    if (ident[EI_CLASS] == ELFCLASS32) return scan_program_headers<Elf32_Ehdr, Elf32_Phdr>(fd.get());
    return -1;
}

bool path_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace isolab
