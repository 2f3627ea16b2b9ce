// A container's log as Docker's `json-file` driver keeps it: one JSON object per line
// (`{"log":"hi\n","stream":"stdout","time":"2026-11-29T06:47:18.123456789Z"}`) in
// `container.log`, rotated by size into `container.log.1` … `container.log.<max-file - 1>`
// (`.1` the newest rotated file). Issue 12: without a cap, a container that prints forever fills
// the host's disk, and a reader that loads the whole file to show its last line needs as much
// memory as the file is large.
//
// Writer: the per-container monitor, one per log, single-threaded. Readers: `isolab logs` and the
// builder, in other processes, at any time, with no lock between them and the writer (a reader
// that could block the writer would stall the container's output). What makes that safe:
//   - every entry is one write(2) of one complete line on an O_APPEND descriptor;
//   - a rotated file is never written again;
//   - rotation only ever renames or links whole files, so `container.log` always exists, and a
//     reader that opened a file keeps a complete, consistent copy of it even after it is renamed
//     away or deleted;
//   - a reader opens the set of files newest first and checks, by inode, that no rotation
//     happened while it opened them (else it opens them again), and never hands out a line that
//     does not end in '\n' yet.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"

namespace isolab {

// `--log-opt max-size=SIZE` as Docker's json-file driver parses it: go-units' FromHumanSize
// (decimal: "100k" = 100000 bytes, "10m" = 10000000, "1g" = 10^9; an optional "b", "ib" after the
// unit letter, any case), and then the driver's own check that it is positive.
// Errors are Docker's words: "invalid size: 'abc'", "max-size must be a positive number".
Result<int64_t> parse_log_max_size(std::string_view text);
// `--log-opt max-file=N`: Go's strconv.Atoi, then "max-file cannot be less than 1".
Result<int> parse_log_max_file(std::string_view text);

// `--since` / `--until` of `logs` as Docker's client turns them into a time (timetypes.GetTimestamp):
// a Go duration before NOW_NS ("42m", "1h30m", "1.5s"), an RFC 3339 date or time ("2013-01-02",
// "2013-01-02T13:23", "2013-01-02T13:23:37.5Z", "...+09:00"; without a zone: the local time), or
// Unix seconds ("1700000000", "1700000000.5"). Returns Unix nanoseconds; 0 for "0" (no bound).
// Error: `failed to parse value as time or duration: "foo"` (Docker's words).
Result<int64_t> parse_log_time(std::string_view text, int64_t now_ns);

// PATH for index 0, else PATH.INDEX.
std::string rotated_log_path(const std::string& path, int index);

// The writer. Rotation happens before an entry is written when the current file has reached
// MAX_SIZE (Docker's order: a file may end up to one entry larger than MAX_SIZE), keeping at most
// MAX_FILE files in all (Docker's max-file counts the current one; 1 = the current file is
// replaced by an empty one). At most MAX_SIZE * MAX_FILE bytes, plus one entry per file, are ever
// on disk.
class JsonLogWriter {
public:
    // Opens (creating it 0640 if needed) PATH for appending; what it already holds counts toward
    // MAX_SIZE. Preconditions: max_size > 0, max_file >= 1.
    static Result<JsonLogWriter> open(std::string path, int64_t max_size, int max_file);

    // Appends one entry. On failure (disk full, a rotation that could not be made) the entry is
    // dropped and the file is left ending in a complete line: the cap holds and no reader sees a
    // torn line.
    Status write(std::string_view stream, std::string_view text, std::string_view time);

    int64_t size() const { return size_; }  // bytes in the current file

private:
    JsonLogWriter() = default;
    Status rotate();

    std::string path_;
    int64_t max_size_ = 0;
    int max_file_ = 1;
    UniqueFd fd_;
    int64_t size_ = 0;
};

// The reader. It holds a consistent set of the log's files open (a snapshot taken by open()) and a
// read position in it, and moves on to newer files as the writer rotates. Memory: one 64 KiB
// buffer and the longest line, whatever the size of the files.
class JsonLogReader {
public:
    using LineFn = std::function<void(std::string_view line)>;  // without the '\n'

    // Snapshot of PATH and its rotated files; the read position is at the oldest line still on
    // disk. A log that does not exist yet is not an error: it is read as empty, and poll() picks
    // it up once the writer creates it.
    static Result<JsonLogReader> open(std::string path);

    // Moves the read position to the start of the last N complete lines of the snapshot (all of
    // them if it holds fewer), reading the files backwards from their end: the cost is that of the
    // N lines, not of the files. Precondition: nothing has been read yet.
    Status seek_tail(size_t n);

    // Hands FN every complete line from the read position to the end of the snapshot, in order
    // across the files, and moves the position after them. What the writer appends after open()
    // is left for poll().
    Status read_snapshot(const LineFn& fn);

    // Hands FN every complete line from the read position to what the writer has written by now,
    // following rotations: when `PATH` is no longer the file being read, the rest of that file is
    // read and the reader moves on to the files that replaced it. Lines can be lost only when the
    // writer rotated a file away entirely (more than MAX_FILE - 1 rotations) between two polls.
    Status poll(const LineFn& fn);

private:
    struct File {
        UniqueFd fd;
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;  // at the time of the snapshot
    };
    JsonLogReader() = default;
    // Reads files_.front() from pos_ up to LIMIT (-1: its current end); hands out complete lines.
    Status read_front(off_t limit, const LineFn& fn);
    // Leaves files_.front() (finished: a rotated file never grows) for the next one.
    void next_file();
    // Adds to files_ the files now on disk that are newer than the last one in it.
    Status open_newer();

    std::string path_;
    std::deque<File> files_;  // oldest first; the front is being read, the back may still grow
    off_t pos_ = 0;           // read offset in files_.front()
    std::string pending_;     // the start of a line whose '\n' is not read yet
    bool skipping_ = false;   // the line being read is longer than any the writer makes: dropped
};

}  // namespace isolab
