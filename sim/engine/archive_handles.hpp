// Owning handles for libarchive objects, shared by layer_archive.cpp and image_archive.cpp.
// Internal to sim/engine: nothing outside the archive code includes libarchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

namespace isolab::archive_handles {

struct WriteDeleter {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveWriter = std::unique_ptr<struct archive, WriteDeleter>;
using ArchiveReader = std::unique_ptr<struct archive, ReadDeleter>;
using Entry = std::unique_ptr<struct archive_entry, EntryDeleter>;

// libarchive's message for the last error on A, never null.
inline std::string archive_message(struct archive* a) {
    const char* s = archive_error_string(a);
    return s ? s : "unknown libarchive error";
}

}  // namespace isolab::archive_handles
