// Helpers the lesson unit tests share: a temporary directory and an environment variable that is
// put back after the test.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>

namespace isolab::test {

struct TempDir {
    std::string path;
    explicit TempDir(const char* prefix = "isolab-lesson-test") {
        std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// Sets or unsets an environment variable for one test and puts the old value back.
class EnvVar {
public:
    explicit EnvVar(std::string name) : name_(std::move(name)) {
        if (const char* v = std::getenv(name_.c_str())) old_ = v;
    }
    ~EnvVar() {
        if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
        else ::unsetenv(name_.c_str());
    }
    void set(const std::string& v) { ::setenv(name_.c_str(), v.c_str(), 1); }
    void unset() { ::unsetenv(name_.c_str()); }

private:
    std::string name_;
    std::optional<std::string> old_;
};

}  // namespace isolab::test
