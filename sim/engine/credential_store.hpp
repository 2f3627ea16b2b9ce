// IsoLab's credential file: `config.json` in IsoLab's config folder (isolab_config_dir(), see
// registry.hpp), in Docker's format, written by `isolab login` and cleaned by `isolab logout`:
//
//   {"auths": {"HOST:PORT": {"auth": "<base64 of user:password>"},
//              "https://index.docker.io/v1/": {"auth": "..."}}}
//
// Docker Hub's key is Docker's historical `https://index.docker.io/v1/`; every other registry is
// keyed by its host[:port]. load_registry_credentials() (registry.hpp) reads the same file.
//
// Writing (what Docker's configfile.Save does, and where IsoLab is stricter):
//   * the whole file is rewritten through a temporary file in the same folder and rename(2), so a
//     reader (a concurrent pull) sees the old file or the new one, never half of one;
//   * the file is 0600 whatever the umask (fchmod after creation), and the folder is made 0700 when
//     login creates it. Docker keeps the old file's mode; IsoLab never leaves a password readable
//     by others;
//   * every key of the file other than the one entry changed is kept as it was (Docker rewrites
//     the file from its own struct and drops keys it does not know);
//   * a config.json that is not a JSON object is never overwritten: the error names the file.
// Passwords are stored base64-encoded, i.e. in the clear, as Docker's file store does; IsoLab has
// no credential helpers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/engine/registry.hpp"

namespace isolab {

// RFC 4648 base64 with padding (Go's base64.StdEncoding), as config.json's "auth" holds.
std::string base64_encode(std::string_view bytes);
// Strict: the standard alphabet, padding required, nothing else; an error otherwise.
Result<std::string> base64_decode_strict(std::string_view text);

// Docker Hub's key in config.json (Docker's registry.IndexServer).
inline constexpr const char* kDockerHubAuthKey = "https://index.docker.io/v1/";

// The config.json key `login SERVER` and `logout SERVER` use, as Docker 28's client computes it:
// "" and "docker.io" are Docker Hub's key; anything else loses an http:// or https:// prefix and
// everything from the first '/' ("https://127.0.0.1:5000/v2/" → "127.0.0.1:5000").
std::string credential_key(const std::string& server);
// The registry domain a key names, for the client: Docker Hub's key, "index.docker.io" and
// "registry-1.docker.io" are "docker.io"; every other key is its own host[:port].
std::string credential_domain(const std::string& key);

// isolab_config_dir() + "/config.json".
std::string credentials_path();

// The credentials stored under exactly KEY; none (empty username) when there are none.
Result<RegistryCredentials> read_stored_credentials(const std::string& key);

// Stores CREDS under KEY (the entry becomes {"auth": base64("user:password")}). CHANGED (when not
// null) says whether the file was written: storing what is already there writes nothing, as
// Docker's file store does.
Status store_credentials(const std::string& key, const RegistryCredentials& creds, bool* changed = nullptr);

// Removes each of KEYS that the file holds; writes the file only when one was there. Returns how
// many entries went.
Result<int> erase_credentials(const std::vector<std::string>& keys);

}  // namespace isolab
