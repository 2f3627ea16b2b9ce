// The attach protocol between a container's monitor and the CLIs attached to it (conmon's attach
// socket is the model). A frame is: 1 byte type, 4 bytes big-endian length, payload.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/core/result.hpp"

namespace isolab {

enum class FrameType : uint8_t {
    Stdout = 1,   // monitor → client
    Stderr = 2,   // monitor → client
    Stdin = 3,    // client → monitor
    StdinEof = 4, // client → monitor: close the container's stdin
    Resize = 5,   // client → monitor: "ROWS COLS"
    Exit = 6,     // monitor → client: "CODE" (decimal); the last frame
    Error = 7,    // monitor → client: a message to print (exec failure after attach)
};

struct Frame {
    FrameType type;
    std::string data;
};

Status write_frame(int fd, FrameType type, const std::string& data);
// Reads one whole frame (blocking). EOF before a frame → error "closed".
Result<Frame> read_frame(int fd);

// The default detach sequence, ctrl-p,ctrl-q (Docker's DefaultEscapeKeys).
inline constexpr const char* kDefaultDetachKeys = "\x10\x11";

// --detach-keys as moby/term's ToBytes reads it: comma-separated keys, each one character, "ctrl-X"
// (X one of a-z @ [ \ ] ^ _) or "DEL". "" gives the default. Error (exit 125): Docker's daemon
// words, "Invalid detach keys (KEYS) provided".
Result<std::string> parse_detach_keys(const std::string& keys);

struct AttachOptions {
    bool stdin_attached = false;  // copy our stdin to the container's (-i, or -a stdin)
    bool stdout_attached = true;  // print the container's stdout (-a picks the streams)
    bool stderr_attached = true;
    bool tty = false;  // the container has a terminal: raw mode, size forwarded, detach keys read
    // The bytes that detach (parse_detach_keys), matched in what is typed when `tty` and stdin is
    // attached, as Docker's escape proxy does: a sequence that breaks off is passed on whole.
    std::string detach_keys = kDefaultDetachKeys;
    // --sig-proxy: every signal the client receives but SIGCHLD, SIGPIPE, SIGURG and SIGWINCH is
    // handed to this function (the caller sends it to the container, as Docker's CLI calls the
    // kill API). Unset, or with `tty` (Docker turns the proxy off with a terminal): no handlers.
    std::function<void(int)> forward_signal;
};

struct AttachEnd {
    bool detached = false;  // the detach keys were typed: the container runs on
    int exit_code = 0;      // the container's, when not detached
};

// Docker-like attach from a terminal or pipes. Connects to SOCKET_PATH, copies stdin and prints
// the container's output until the Exit frame (or the detach keys).
Result<AttachEnd> attach_session(const std::string& socket_path, const AttachOptions& options);

// Matches the detach sequence in a byte stream (moby/term's escapeProxy).
class EscapeProxy {
public:
    explicit EscapeProxy(std::string keys) : keys_(std::move(keys)) {}
    // The bytes of IN to pass on; *detached is set once the whole sequence has been seen (bytes
    // after it are dropped).
    std::string feed(const std::string& in, bool* detached);

private:
    std::string keys_;
    size_t matched_ = 0;
};

}  // namespace isolab
