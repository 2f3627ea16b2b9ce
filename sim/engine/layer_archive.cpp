#include "sim/engine/archive_handles.hpp"
#include "sim/engine/layer_archive.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "sim/core/files.hpp"

namespace isolab {

// ---------------------------------------------------------------------------------------------
// sha256

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256Stream::update(const void* data, size_t n) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}
std::string Sha256Stream::hex() {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d, &n);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        out += digits[d[i] >> 4];
        out += digits[d[i] & 15];
    }
    return out;
}

namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";
constexpr const char* kCapabilityXattr = "security.capability";

using archive_handles::ArchiveReader;
using archive_handles::ArchiveWriter;
using archive_handles::Entry;
using archive_handles::archive_message;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool is_whiteout_device(const struct stat& st) {
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

// Overlay opaque dirs: exactly "y" in the trusted. (root) or user. (userxattr) namespace. Other
// values ("x" marks a dir holding xwhiteouts on Linux 6.7+) do not make the directory opaque.
bool is_opaque_dir(const std::string& path) {
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
        char v[2];
        ssize_t n = ::lgetxattr(path.c_str(), name, v, sizeof v);
        if (n == 1 && v[0] == 'y') return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// write_layer_tar

enum class ItemKind { Plain, Whiteout, OpaqueMarker };

struct Item {
    std::string name;  // tar name: relative, no "./", directories end with "/"
    std::string path;  // on disk
    struct stat st {};
    ItemKind kind = ItemKind::Plain;
};

Status collect_tree(const std::string& dir, const std::string& rel, std::vector<Item>* out) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) return errno_error("read directory `" + dir + "`", errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* de = ::readdir(d.get())) {
        std::string n = de->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
        errno = 0;
    }
    if (errno != 0) return errno_error("read directory `" + dir + "`", errno);
    d.reset();
    for (const auto& n : names) {
        Item it;
        it.path = dir + "/" + n;
        std::string name = rel + n;
        if (::lstat(it.path.c_str(), &it.st) != 0) return errno_error("stat `" + it.path + "`", errno);
        if (S_ISSOCK(it.st.st_mode)) continue;  // a tar cannot hold a socket
        if (is_whiteout_device(it.st)) {
            it.kind = ItemKind::Whiteout;
            it.name = rel + kWhiteoutPrefix + n;
            out->push_back(std::move(it));
            continue;
        }
        if (S_ISDIR(it.st.st_mode)) {
            it.name = name + "/";
            std::string child_rel = it.name;
            std::string child_dir = it.path;
            if (is_opaque_dir(it.path)) {
                Item marker = it;
                marker.kind = ItemKind::OpaqueMarker;
                marker.name = it.name + kOpaqueMarker;
                out->push_back(std::move(marker));
            }
            out->push_back(std::move(it));
            ISOLAB_TRY(collect_tree(child_dir, child_rel, out));
            continue;
        }
        it.name = name;
        out->push_back(std::move(it));
    }
    return {};
}

// Where the tar bytes go: always through sha256, and to FD when there is one.
struct TarSink {
    Sha256Stream hash;
    int64_t size = 0;
    int fd = -1;
    int write_errno = 0;
};

la_ssize_t sink_write(struct archive* a, void* client, const void* buf, size_t n) {
    auto* sink = static_cast<TarSink*>(client);
    sink->hash.update(buf, n);
    sink->size += static_cast<int64_t>(n);
    const char* p = static_cast<const char*>(buf);
    size_t left = n;
    while (sink->fd >= 0 && left > 0) {
        ssize_t w = ::write(sink->fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            sink->write_errno = errno;
            archive_set_error(a, errno, "write: %s", std::strerror(errno));
            return -1;
        }
        p += w;
        left -= static_cast<size_t>(w);
    }
    return static_cast<la_ssize_t>(n);
}

// The deterministic tar writer: pax_restricted is
// plain ustar unless an entry needs an extended header (long name, big size or id, xattr); the
// last block is not padded to 10 KiB, so the stream ends with the two zero blocks like Go's
// archive/tar.
Result<ArchiveWriter> open_tar_writer(TarSink* sink, bool binary_names = true) {
    ArchiveWriter a(archive_write_new());
    if (!a) return make_error("libarchive: out of memory");
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
        // SCHILY.xattr only (what Go's archive/tar, GNU tar and containers/storage read), not the
        // extra LIBARCHIVE.xattr copy other readers warn about.
        archive_write_set_format_option(a.get(), "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
        // Names are written as the bytes on disk. Without this, libarchive converts them through the
        // process locale, and a non-ASCII name would give one diff_id under LANG=C and another
        // under a UTF-8 locale (the GUI calls setlocale).
        (binary_names && archive_write_set_format_option(a.get(), "pax", "hdrcharset", "BINARY") != ARCHIVE_OK) ||
        archive_write_open2(a.get(), sink, nullptr, sink_write, nullptr, nullptr) != ARCHIVE_OK)
        return make_error("libarchive: set up a tar writer: " + archive_message(a.get()));
    return a;
}

Status write_header(struct archive* a, struct archive_entry* e) {
    int r = archive_write_header(a, e);
    if (r < ARCHIVE_WARN)
        return make_error("tar entry `" + std::string(archive_entry_pathname(e)) + "`: " + archive_message(a));
    return {};
}

// Copies a regular file's bytes into the current entry. The file must still have the size the
// header announced: a layer that changes while it is archived would give a digest of nothing that
// ever existed.
Status write_file_data(struct archive* a, const Item& it) {
    UniqueFd fd(::open(it.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return errno_error("open `" + it.path + "`", errno);
    std::vector<char> buf(1 << 16);
    int64_t total = 0;
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `" + it.path + "`", errno);
        }
        if (n == 0) break;
        total += n;
        if (total > it.st.st_size) break;
        if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) < 0)
            return make_error("tar entry `" + it.name + "`: " + archive_message(a));
    }
    if (total != it.st.st_size)
        return make_error("`" + it.path + "` changed size while it was archived; archive the layer again");
    return {};
}

Status write_items(struct archive* a, const std::vector<Item>& items) {
    // (dev, ino) → first tar name, for hard links inside the layer.
    std::map<std::pair<dev_t, ino_t>, std::string> first_name;
    for (const Item& it : items) {
        Entry e(archive_entry_new());
        archive_entry_copy_pathname(e.get(), it.name.c_str());
        archive_entry_set_uid(e.get(), it.st.st_uid);
        archive_entry_set_gid(e.get(), it.st.st_gid);
        archive_entry_set_mtime(e.get(), it.st.st_mtim.tv_sec, 0);
        switch (it.kind) {
        case ItemKind::Whiteout:
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_perm(e.get(), it.st.st_mode & 07777);
            archive_entry_set_size(e.get(), 0);
            ISOLAB_TRY(write_header(a, e.get()));
            continue;
        case ItemKind::OpaqueMarker:
            // Inherits the directory's owner, permission bits and mtime, like Docker's.
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_perm(e.get(), it.st.st_mode & 0777);
            archive_entry_set_size(e.get(), 0);
            ISOLAB_TRY(write_header(a, e.get()));
            continue;
        case ItemKind::Plain:
            break;
        }
        archive_entry_set_mode(e.get(), it.st.st_mode);
        if (!S_ISDIR(it.st.st_mode) && it.st.st_nlink > 1) {
            auto [pos, inserted] = first_name.emplace(std::make_pair(it.st.st_dev, it.st.st_ino), it.name);
            if (!inserted) {
                archive_entry_copy_hardlink(e.get(), pos->second.c_str());
                archive_entry_set_size(e.get(), 0);
                ISOLAB_TRY(write_header(a, e.get()));
                continue;
            }
        }
        if (S_ISREG(it.st.st_mode)) {
            archive_entry_set_size(e.get(), it.st.st_size);
            std::string cap(256, '\0');
            ssize_t n = ::lgetxattr(it.path.c_str(), kCapabilityXattr, cap.data(), cap.size());
            if (n > 0) archive_entry_xattr_add_entry(e.get(), kCapabilityXattr, cap.data(), static_cast<size_t>(n));
            ISOLAB_TRY(write_header(a, e.get()));
            ISOLAB_TRY(write_file_data(a, it));
            continue;
        }
        if (S_ISLNK(it.st.st_mode)) {
            std::string target(PATH_MAX, '\0');
            ssize_t n = ::readlink(it.path.c_str(), target.data(), target.size());
            if (n < 0) return errno_error("read link `" + it.path + "`", errno);
            target.resize(static_cast<size_t>(n));
            archive_entry_copy_symlink(e.get(), target.c_str());
        } else if (S_ISCHR(it.st.st_mode) || S_ISBLK(it.st.st_mode)) {
            archive_entry_set_rdevmajor(e.get(), major(it.st.st_rdev));
            archive_entry_set_rdevminor(e.get(), minor(it.st.st_rdev));
        }
        archive_entry_set_size(e.get(), 0);
        ISOLAB_TRY(write_header(a, e.get()));
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// extract_layer_tar

// The decompressed stream: an outer reader (raw format, any supported filter) hands plain tar
// bytes to the inner tar reader and hashes them on the way, which is how a gzip layer still
// yields the diff_id of its uncompressed tar.
struct PlainStream {
    struct archive* outer = nullptr;
    Sha256Stream hash;
    int64_t size = 0;
    std::vector<char> buf = std::vector<char>(1 << 16);
    std::string error;
    int copy_fd = -1;  // the uncompressed stream is also written here, when >= 0
};

la_ssize_t plain_read(struct archive* inner, void* client, const void** out) {
    auto* s = static_cast<PlainStream*>(client);
    la_ssize_t n = archive_read_data(s->outer, s->buf.data(), s->buf.size());
    if (n < 0) {
        s->error = archive_message(s->outer);
        archive_set_error(inner, EIO, "%s", s->error.c_str());
        return -1;
    }
    s->hash.update(s->buf.data(), static_cast<size_t>(n));
    s->size += n;
    for (size_t off = 0; s->copy_fd >= 0 && off < static_cast<size_t>(n);) {
        ssize_t w = ::write(s->copy_fd, s->buf.data() + off, static_cast<size_t>(n) - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            s->error = std::string("write the layer's tar: ") + std::strerror(errno);
            archive_set_error(inner, EIO, "%s", s->error.c_str());
            return -1;
        }
        off += static_cast<size_t>(w);
    }
    *out = s->buf.data();
    return n;
}

void enable_read_filters(struct archive* a) {
    // Explicit filters only: the *_all variants pull xar → libxml2 → ICU into the static binary.
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_xz(a);
}

// Lexical checks done before libarchive sees the name, so the message can say what is wrong.
Status check_entry_name(const std::string& name, const std::string& what) {
    if (name.empty()) return make_error(what + " has an empty name");
    if (name[0] == '/')
        return make_error(what + " `" + name + "` is an absolute path; a layer may only write inside its directory");
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        if (name.compare(start, end - start, "..") == 0)
            return make_error(what + " `" + name + "` has a `..` component; a layer may only write inside its directory");
        start = end + 1;
    }
    return {};
}

std::string strip_dot_slash(std::string name) {
    while (starts_with(name, "./")) name.erase(0, 2);
    return name;
}

// Opens directory REL below ROOTFD one component at a time, never following a symlink, creating
// missing directories (0755) when CREATE. This is what keeps a whiteout `link/.wh.x` from making a
// device node wherever `link` points.
Result<UniqueFd> open_dir_beneath(int rootfd, const std::string& rel, bool create, const std::string& entry) {
    UniqueFd cur(::fcntl(rootfd, F_DUPFD_CLOEXEC, 0));
    if (!cur.valid()) return errno_error("dup", errno);
    size_t start = 0;
    while (start < rel.size()) {
        size_t end = rel.find('/', start);
        if (end == std::string::npos) end = rel.size();
        std::string comp = rel.substr(start, end - start);
        start = end + 1;
        if (comp.empty() || comp == ".") continue;
        int fd = ::openat(cur.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
            if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST)
                return errno_error("entry `" + entry + "`: create directory `" + comp + "`", errno);
            fd = ::openat(cur.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
            int err = errno;
            if (err == ELOOP || err == ENOTDIR)
                return make_error("entry `" + entry + "`: `" + comp +
                                  "` is a symlink or not a directory; refusing to follow it out of the layer");
            return errno_error("entry `" + entry + "`: open `" + comp + "`", err);
        }
        cur.reset(fd);
    }
    return cur;
}

bool running_as_real_root() {
    if (::geteuid() != 0) return false;
    // In the initial user namespace uid_map is the identity over the whole range.
    auto map = read_file("/proc/self/uid_map");
    if (!map.ok()) return true;
    unsigned long inside = 1, outside = 1, count = 0;
    if (std::sscanf(map->c_str(), "%lu %lu %lu", &inside, &outside, &count) != 3) return true;
    return inside == 0 && outside == 0 && count == 4294967295UL;
}

Status make_whiteout(int rootfd, const std::string& parent, const std::string& name, struct archive_entry* e,
                     const std::string& entry) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        return make_error("entry `" + entry + "` is a whiteout for an invalid name");
    auto dir = open_dir_beneath(rootfd, parent, true, entry);
    ISOLAB_TRY(dir);
    int fd = dir->get();
    if (::mknodat(fd, name.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
        int err = errno;
        if (err == EPERM)
            return make_error("entry `" + entry +
                              "`: create the overlay whiteout (char device 0/0): Operation not permitted; "
                              "loading layers with deletions needs root, or a user namespace on Linux 5.8 or newer");
        return errno_error("entry `" + entry + "`: create the overlay whiteout (char device 0/0)", err);
    }
    if (::fchmodat(fd, name.c_str(), archive_entry_perm(e) & 07777, 0) != 0)
        return errno_error("entry `" + entry + "`: chmod the whiteout", errno);
    if (::geteuid() == 0 &&
        ::fchownat(fd, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e)),
                   AT_SYMLINK_NOFOLLOW) != 0)
        return errno_error("entry `" + entry + "`: chown the whiteout", errno);
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    if (::utimensat(fd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        return errno_error("entry `" + entry + "`: set the whiteout's mtime", errno);
    return {};
}

Status make_opaque(int rootfd, const std::string& dir_rel, const std::string& entry) {
    auto dir = open_dir_beneath(rootfd, dir_rel, true, entry);
    ISOLAB_TRY(dir);
    const char* xattr = overlay_opaque_xattr_for_writing();
    if (::fsetxattr(dir->get(), xattr, "y", 1, 0) != 0)
        return errno_error("entry `" + entry + "`: set `" + std::string(xattr) + "=y` on the directory", errno);
    return {};
}

}  // namespace

const char* overlay_opaque_xattr_for_writing() {
    static const bool real_root = running_as_real_root();
    return real_root ? "trusted.overlay.opaque" : "user.overlay.opaque";
}

namespace {

// write_layer_tar and write_layer_tar_to_fd: OUT_FD >= 0 streams there, else TAR_PATH as described
// in the header.
Result<LayerTar> write_layer_tar_impl(const std::string& dir, const std::string& tar_path, int out_fd,
                                      const std::string& ctx) {
    struct stat root;
    if (::stat(dir.c_str(), &root) != 0) return errno_error(ctx, errno);
    if (!S_ISDIR(root.st_mode)) return make_error(ctx + ": not a directory");
    std::vector<Item> items;
    ISOLAB_TRY_CTX(collect_tree(dir, "", &items), ctx);
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.name < b.name; });

    TarSink sink;
    UniqueFd out;
    std::string tmp;
    if (out_fd >= 0) {
        sink.fd = out_fd;
    } else if (!tar_path.empty()) {
        tmp = tar_path + ".tmp." + std::to_string(::getpid());
        out.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!out.valid()) return errno_error(ctx + ": create `" + tmp + "`", errno);
        sink.fd = out.get();
    }
    auto fail = [&](const Error& e) -> Error {
        if (!tmp.empty()) ::unlink(tmp.c_str());
        return e.wrap(ctx);
    };
    // A stream for people (export) spells names as the locale does, so that GNU tar reads it
    // without a warning per entry; a layer's stays byte-exact whatever the locale.
    auto a = open_tar_writer(&sink, out_fd < 0);
    if (!a.ok()) return fail(a.error());
    Status st = write_items(a->get(), items);
    if (!st.ok()) return fail(st.error());
    if (archive_write_close(a->get()) != ARCHIVE_OK)
        return fail(make_error("finish the tar: " + archive_message(a->get())));
    if (!tmp.empty()) {
        if (::fsync(out.get()) != 0) return fail(errno_error("sync `" + tmp + "`", errno));
        out.reset();
        if (::rename(tmp.c_str(), tar_path.c_str()) != 0)
            return fail(errno_error("rename `" + tmp + "` to `" + tar_path + "`", errno));
    }
    return LayerTar{"sha256:" + sink.hash.hex(), sink.size};
}

}  // namespace

Result<LayerTar> write_layer_tar(const std::string& dir, const std::string& tar_path) {
    return write_layer_tar_impl(dir, tar_path, -1, "archive layer `" + dir + "`");
}

Result<LayerTar> write_layer_tar_to_fd(const std::string& dir, int fd, const std::string& what) {
    if (fd < 0) return make_error("archive " + what + ": no output descriptor");
    return write_layer_tar_impl(dir, "", fd, "archive " + what);
}

std::string original_layer_tar(const std::string& dir) {
    std::string tar = dir + ".tar";
    return path_exists(tar) ? tar : "";
}

Result<std::string> file_diff_id(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("read `" + path + "`", errno);
    Sha256Stream h;
    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read `" + path + "`", errno);
        if (n == 0) break;
        h.update(buf.data(), static_cast<size_t>(n));
    }
    return "sha256:" + h.hex();
}

Result<LayerTar> extract_layer_tar(const std::string& tar_path, const std::string& dest, const std::string& plain_copy) {
    const std::string ctx = "extract layer `" + tar_path + "` into `" + dest + "`";
    ISOLAB_TRY_CTX(make_dirs(dest), ctx);
    {
        std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dest.c_str()), ::closedir);
        if (!d) return errno_error(ctx, errno);
        while (struct dirent* de = ::readdir(d.get())) {
            std::string n = de->d_name;
            if (n != "." && n != "..") return make_error(ctx + ": the destination is not empty");
        }
    }
    // The canonical path: libarchive's symlink check walks every component of the names we give
    // it, so the prefix must hold no symlink of its own (e.g. a store under a symlinked /var).
    char* real = ::realpath(dest.c_str(), nullptr);
    if (!real) return errno_error(ctx + ": resolve the destination", errno);
    const std::string root = real;
    std::free(real);
    UniqueFd rootfd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd.valid()) return errno_error(ctx + ": open the destination", errno);

    ArchiveReader outer(archive_read_new());
    ArchiveReader inner(archive_read_new());
    ArchiveWriter disk(archive_write_disk_new());
    if (!outer || !inner || !disk) return make_error(ctx + ": libarchive: out of memory");
    enable_read_filters(outer.get());
    archive_read_support_format_raw(outer.get());
    if (archive_read_open_filename(outer.get(), tar_path.c_str(), 1 << 16) != ARCHIVE_OK)
        return make_error(ctx + ": " + archive_message(outer.get()));
    struct archive_entry* raw_entry = nullptr;
    int r = archive_read_next_header(outer.get(), &raw_entry);
    if (r == ARCHIVE_EOF) return make_error(ctx + ": the file is empty, not a tar");
    if (r < ARCHIVE_WARN) return make_error(ctx + ": " + archive_message(outer.get()));

    PlainStream plain;
    plain.outer = outer.get();
    UniqueFd copy;
    if (!plain_copy.empty()) {
        copy.reset(::open(plain_copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!copy.valid()) return errno_error(ctx + ": create `" + plain_copy + "`", errno);
        plain.copy_fd = copy.get();
    }
    archive_read_support_format_tar(inner.get());
    if (archive_read_open(inner.get(), &plain, nullptr, plain_read, nullptr) != ARCHIVE_OK)
        return make_error(ctx + ": " + (plain.error.empty() ? archive_message(inner.get()) : plain.error));

    // Names reach libarchive as ROOT/NAME (absolute), so that the process's working directory never
    // changes (the GUI is multi-threaded); that is why SECURE_NOABSOLUTEPATHS is not among the flags:
    // check_entry_name refuses absolute names and `..` first, with a message naming the entry, and
    // SECURE_NODOTDOT and SECURE_SYMLINKS stay on as the second line (SECURE_SYMLINKS also covers
    // hard-link targets reached through a symlink). Owners only as root: an unprivileged chown to
    // the tar's ids would fail on every entry.
    int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
    if (::geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(disk.get(), flags);

    for (;;) {
        struct archive_entry* e = nullptr;
        r = archive_read_next_header(inner.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            return make_error(ctx + ": " + (plain.error.empty() ? archive_message(inner.get()) : plain.error));
        const char* raw_name = archive_entry_pathname(e);
        std::string name = strip_dot_slash(raw_name ? raw_name : "");
        if (raw_name && *raw_name && (name.empty() || name == "." || name == "./")) {
            // "./" or ".": the layer root itself (tar -C DIR . writes it first; so do podman and
            // Go's archive/tar users); its metadata is not the layer's to set.
            archive_read_data_skip(inner.get());
            continue;
        }
        ISOLAB_TRY_CTX(check_entry_name(name, "entry"), ctx);
        const char* hardlink = archive_entry_hardlink(e);
        std::string link_target;
        if (hardlink) {
            link_target = strip_dot_slash(hardlink);
            ISOLAB_TRY_CTX(check_entry_name(link_target, "entry `" + name + "` links to"), ctx);
        }

        std::string trimmed = name;
        while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
        if (trimmed.empty()) {  // "./": the layer root itself; its metadata is not the layer's to set
            archive_read_data_skip(inner.get());
            continue;
        }
        size_t slash = trimmed.rfind('/');
        std::string parent = slash == std::string::npos ? "" : trimmed.substr(0, slash);
        std::string base = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
        if (starts_with(base, kWhiteoutPrefix)) {
            if (base == kOpaqueMarker) {
                ISOLAB_TRY_CTX(make_opaque(rootfd.get(), parent, name), ctx);
            } else if (starts_with(base, ".wh..wh.")) {
                // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): meaningless here, as in Docker.
            } else {
                ISOLAB_TRY_CTX(make_whiteout(rootfd.get(), parent, base.substr(4), e, name), ctx);
            }
            archive_read_data_skip(inner.get());
            continue;
        }

        // Only security.capability survives (see the header).
        std::string cap;
        archive_entry_xattr_reset(e);
        const char* xname = nullptr;
        const void* xvalue = nullptr;
        size_t xsize = 0;
        while (archive_entry_xattr_next(e, &xname, &xvalue, &xsize) == ARCHIVE_OK)
            if (xname && std::string(xname) == kCapabilityXattr) cap.assign(static_cast<const char*>(xvalue), xsize);
        archive_entry_xattr_clear(e);
        if (!cap.empty()) archive_entry_xattr_add_entry(e, kCapabilityXattr, cap.data(), cap.size());

        archive_entry_copy_pathname(e, (root + "/" + name).c_str());
        if (hardlink) archive_entry_copy_hardlink(e, (root + "/" + link_target).c_str());
        r = archive_write_header(disk.get(), e);
        if (r < ARCHIVE_WARN)
            return make_error(ctx + ": entry `" + name + "`: " + archive_message(disk.get()));
        if (archive_entry_size(e) > 0 && r >= ARCHIVE_WARN) {
            const void* buf;
            size_t size;
            la_int64_t offset;
            for (;;) {
                int rr = archive_read_data_block(inner.get(), &buf, &size, &offset);
                if (rr == ARCHIVE_EOF) break;
                if (rr < ARCHIVE_WARN)
                    return make_error(ctx + ": entry `" + name + "`: " +
                                      (plain.error.empty() ? archive_message(inner.get()) : plain.error));
                if (archive_write_data_block(disk.get(), buf, size, offset) < ARCHIVE_WARN)
                    return make_error(ctx + ": entry `" + name + "`: " + archive_message(disk.get()));
            }
        }
        if (archive_write_finish_entry(disk.get()) < ARCHIVE_WARN)
            return make_error(ctx + ": entry `" + name + "`: " + archive_message(disk.get()));
    }
    // Directory modes and mtimes are fixed up here, after everything inside them was written
    // (whiteouts included).
    if (archive_write_close(disk.get()) != ARCHIVE_OK)
        return make_error(ctx + ": " + archive_message(disk.get()));
    // The diff_id covers the whole uncompressed stream, including the end-of-archive blocks and
    // any padding the tar reader did not need to look at.
    for (;;) {
        const void* unused = nullptr;
        la_ssize_t n = plain_read(inner.get(), &plain, &unused);
        if (n < 0) return make_error(ctx + ": " + plain.error);
        if (n == 0) break;
    }
    return LayerTar{"sha256:" + plain.hash.hex(), plain.size};
}

}  // namespace isolab
