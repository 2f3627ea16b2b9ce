// Errors as values (STYLE §7, after crun's libcrun_error_t).
//
// Every core function that can fail returns Result<T> (or Status for no value). An Error carries
// the message a user reads and the exit code a front end should use (Docker's conventions: 125 for
// engine and flag errors, 126 cannot invoke, 127 not found, 1 for "No such container" and invalid
// state transitions). Each layer may add a prefix with wrap(); only front ends print or exit.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace isolab {

struct Error {
    std::string message;
    int exit_code = 125;

    // "start web: " + "mount overlay: Permission denied"
    Error wrap(std::string_view prefix) const {
        return Error{std::string(prefix) + ": " + message, exit_code};
    }
};

inline Error make_error(std::string message, int exit_code = 125) {
    return Error{std::move(message), exit_code};
}

// Builds "<what>: <strerror(err)>". Pass errno saved right after the failing call.
inline Error errno_error(std::string_view what, int err, int exit_code = 125) {
    return Error{std::string(what) + ": " + std::strerror(err), exit_code};
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};

// Status: a Result with no value. `return {};` or `return Ok{};` means success.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Ok) {}
    Status(Error error) : err_(std::move(error)), failed_(true) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return err_; }

private:
    Error err_;
    bool failed_ = false;
};

}  // namespace isolab

// Propagate an error from a Result or Status expression, optionally adding a prefix.
#define ISOLAB_TRY(expr)                                   \
    do {                                                   \
        auto&& isolab_try_r_ = (expr);                     \
        if (!isolab_try_r_.ok()) return isolab_try_r_.error(); \
    } while (0)

#define ISOLAB_TRY_CTX(expr, ctx)                                   \
    do {                                                            \
        auto&& isolab_try_r_ = (expr);                              \
        if (!isolab_try_r_.ok()) return isolab_try_r_.error().wrap(ctx); \
    } while (0)
