// The attach protocol between a container's monitor and the CLIs attached to it (conmon's attach
// socket is the model). A frame is: 1 byte type, 4 bytes big-endian length, payload.
#pragma once

#include <cstdint>
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

// Docker-like attach from a terminal or pipes. Connects to SOCKET_PATH, copies stdin (when
// `interactive`) and prints the container's output until the Exit frame; returns the exit code.
// With `tty`, the local terminal is put in raw mode and its size is forwarded.
Result<int> attach_session(const std::string& socket_path, bool interactive, bool tty);

}  // namespace isolab
