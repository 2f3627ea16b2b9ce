// Image references: Docker's grammar for `nginx`, `user/app:v1`, `localhost:5000/a/b:tag` and
// `busybox@sha256:…` (distribution/reference, the package Docker's CLI and daemon parse with).
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [domain "/"] path-component ["/" path-component]*
//   domain         := host [":" port]         host: DNS labels (any case) or "[" IPv6 "]"
//   path-component := [a-z0-9]+ ( ("." | "_" | "__" | "-"+) [a-z0-9]+ )*
//   tag            := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest         := algorithm ":" hex{32,}     (sha256 must have exactly 64 hex digits)
//
// Normalization (ParseNormalizedNamed): the first path element is a registry only when it has a
// '.' or a ':', is `localhost`, or has an upper-case letter; otherwise the registry is docker.io,
// and a one-element path on docker.io gets `library/`. `index.docker.io` is spelled docker.io.
// A name is at most 255 characters; a 64-hex-digit name alone is refused (it would be an id).
//
// Familiar names are what `images`, `ps` and the tags file show: docker.io/ is dropped, and so is
// library/ when the path has no other '/' (`docker.io/library/nginx:latest` → `nginx:latest`,
// `localhost:5000/app:v1` stays). IsoLab's tags file (images.hpp) is keyed by familiar name with a
// tag, which is why `busybox`, `isolab/web` and `myapp:v2` keep naming what they always named.
#pragma once

#include <string>

#include "sim/core/result.hpp"

namespace isolab {

struct ImageReference {
    std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"
    std::string path;    // "library/nginx", "me/app"
    std::string tag;     // "" when none was given
    std::string digest;  // "sha256:<hex>" or ""

    // "docker.io/library/nginx"
    std::string repository() const { return domain + "/" + path; }
    // "docker.io/library/nginx:latest", "docker.io/library/nginx@sha256:…" (Docker's String()).
    std::string full() const;
    // "nginx", "me/app", "localhost:5000/app" (Docker's FamiliarName).
    std::string familiar_name() const;
    // "nginx:latest", "nginx@sha256:…", "nginx:1.25@sha256:…" (Docker's FamiliarString).
    std::string familiar() const;
    // The tag or digest the registry is asked for: the digest when there is one, else the tag.
    std::string manifest_reference() const { return digest.empty() ? tag : digest; }
};

// Docker's ParseNormalizedNamed. Errors use Docker's words, exit code 125 (a front end that
// reports them as `pull` does changes the code to 1):
//   "invalid reference format"
//   "invalid reference format: repository name (library/Nginx) must be lowercase"
//   "repository name must not be more than 255 characters"
//   "invalid repository name (<64 hex>), cannot specify 64-byte hexadecimal strings"
//   "invalid checksum digest length" / "unsupported digest algorithm"
Result<ImageReference> parse_reference(const std::string& text);
// parse_reference, then `latest` when neither a tag nor a digest was given (Docker's TagNameOnly).
Result<ImageReference> parse_reference_with_default_tag(const std::string& text);

}  // namespace isolab
