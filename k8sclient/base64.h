// Standard base64 (RFC 4648), as the API server encodes Secret data and kubeconfig *-data
// fields. Part of k8score: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stepline::k8s {

// Decodes padded base64; whitespace (line wrapping) is ignored. nullopt when malformed: a symbol
// outside the alphabet, data after padding, or a length that is not a multiple of four.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace stepline::k8s
