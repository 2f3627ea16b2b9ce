// Boot stages of a guest VM, read from its serial console.
//
// The VM manager time-stamps every console line as it arrives (milliseconds since it launched
// QEMU) and feeds it here; it calls mark_http_answered() when the host's first HTTP GET of the
// guest's web server succeeds. Five stages, each ending at one milestone:
//
//   stage     from                            to (the milestone that ends it)
//   firmware  QEMU start                      kernel line containing `Linux version X` (X: the
//                                             release, a non-empty word) — SeaBIOS/qboot and
//                                             loading kernel + initramfs
//   kernel    `Linux version X ...`           kernel line containing `Run /init as init process`
//                                             (any `Run <path> as init process`)
//   init      `Run /init as init process`     `isolab-guest: init started` (PID 1 is running)
//   network   `isolab-guest: init started`    `isolab-guest: network up` (mounts, virtio-net
//                                             modules, eth0 configured)
//   app       `isolab-guest: network up`      the host's first successful HTTP GET; the guest's
//                                             `isolab-guest: httpd listening on :80` falls inside
//                                             it (listening_ms())
//
// The names follow the milestones of issue 3 (firmware, kernel start, kernel init done, init
// started, network up, app answering); `httpd listening` is kept as a milestone inside `app`
// rather than a stage of its own, so that `app` measures what a user waits for: the server
// starting plus the first request crossing QEMU's user-mode network.
//
// A stage ends when its milestone line ARRIVES. The Debian cloud kernel enables its serial console
// at printk time 0, so its banner arrives live; a kernel whose console registers later replays
// its log buffer then, and the firmware stage would include that early kernel time.
//
// Contract for the input:
//   - A line is matched after clean_console_line(): ANSI escape sequences, carriage returns,
//     NULs and other control bytes are dropped, and a leading kernel timestamp `[    0.123456]`
//     (optionally followed by a printk caller id `[    T1]`) is removed. Lines with and without
//     the timestamp are treated alike; anything else in the line (garbage around a marker) is
//     tolerated because markers are found by substring.
//   - Times are made monotonic: a time earlier than one already fed counts as that earlier
//     maximum (two readers may stamp lines slightly out of order); negative or NaN times count
//     as the latest time seen (0 at first).
//   - Milestones are accepted only in order. A milestone of a stage that is already done (a
//     duplicate, or one that arrives out of order after a later one) is ignored. A milestone that
//     skips stages (the kernel booted with `quiet` prints neither `Linux version` nor
//     `Run /init`) closes the skipped stages as done but not observed: each is zero-length at
//     the start of the run, and the stage whose milestone was seen spans the whole run. Only its
//     end is measured; a front end should say so (e.g. "firmware+kernel+init 1966 ms").
//   - The first answered HTTP GET completes every stage; later calls and later lines change no
//     stage.
#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace isolab::vm {

inline constexpr std::string_view kBootStageNames[] = {"firmware", "kernel", "init", "network", "app"};
inline constexpr size_t kBootStageCount = std::size(kBootStageNames);

struct BootStage {
    std::string name;     // one of kBootStageNames
    double start_ms = 0;  // ms since QEMU started; meaningful once the previous stage is done
    double end_ms = 0;    // meaningful when done
    bool done = false;
    // False when the stage's ending milestone never appeared but a later one did: the stage is
    // zero-length (start_ms == end_ms) and its time is counted in the next observed stage.
    bool observed = true;

    double duration_ms() const { return done ? end_ms - start_ms : 0; }
};

// One console line made matchable (see the contract above): no escape sequences, no control
// bytes, no leading kernel timestamp, no surrounding blanks. Bytes >= 0x80 are kept as they are.
std::string clean_console_line(std::string_view raw);

class BootStageTracker {
public:
    BootStageTracker();

    // Feeds one console line (without its '\n'; a trailing or embedded '\r' is fine) that arrived
    // MS milliseconds after QEMU started. True when the line ended at least one stage.
    bool feed(double ms, std::string_view line);
    // The host's first successful HTTP GET at MS. True the first time only.
    bool mark_http_answered(double ms);

    // All five stages, in order, always (not yet reached: done == false, times 0).
    std::vector<BootStage> stages() const { return stages_; }
    // True once every stage is done, i.e. the HTTP GET succeeded.
    bool complete() const { return next_ == kBootStageCount; }
    // The stage in progress ("firmware" before any line), "" once complete().
    std::string current_stage() const;
    // X from the first `Linux version X ...` line; "" until then (and for a `quiet` kernel).
    const std::string& kernel_release() const { return kernel_release_; }
    // When mark_http_answered() first succeeded; -1 until then.
    double answered_ms() const { return answered_ms_; }
    // When `isolab-guest: httpd listening` appeared; -1 until then.
    double listening_ms() const { return listening_ms_; }
    // The first sign that the boot failed: the text of an `isolab-guest: error ...` line or of a
    // `Kernel panic - not syncing` line (cleaned); "" when none. Stages go on being tracked.
    const std::string& failure() const { return failure_; }
    // The latest (monotonic) time fed so far.
    double last_ms() const { return last_ms_; }

private:
    double clamp_time(double ms);
    // Closes every stage before END_STAGE (those skipped are not observed) and END_STAGE itself
    // at MS, then starts the next one. END_STAGE < next_ is ignored (a late milestone).
    bool close_through(size_t end_stage, double ms);

    std::vector<BootStage> stages_;
    size_t next_ = 0;  // index of the first stage not done
    double last_ms_ = 0;
    double answered_ms_ = -1;
    double listening_ms_ = -1;
    std::string kernel_release_;
    std::string failure_;
};

}  // namespace isolab::vm
