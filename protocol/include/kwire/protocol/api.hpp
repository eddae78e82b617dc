// The one list of every Kafka API kwire knows. Dispatch tables and
// ApiVersions answers come from here, never from a second hand-kept list.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kwire/protocol/api_keys.hpp"
#include "kwire/protocol/message.hpp"

namespace kwire {

/// One API: key, name, the versions its request and response share, and the
/// operations on both message types.
struct api_info {
  std::int16_t key;
  std::string_view name;  ///< e.g. "Produce"
  std::int16_t min_version;
  std::int16_t max_version;
  std::int16_t first_flexible_version;  ///< -1 if none
  bool latest_version_unstable;         ///< the newest version is still under development
  const message_ops* request;
  const message_ops* response;

  bool supports(std::int16_t version) const noexcept {
    return version >= min_version && version <= max_version;
  }
  bool is_flexible(std::int16_t version) const noexcept {
    return first_flexible_version >= 0 && version >= first_flexible_version;
  }
};

/// Every API, ordered by key. Generated from protocol/schema.
std::span<const api_info> all_apis() noexcept;

/// The API with this key, or nullptr.
const api_info* find_api(std::int16_t key) noexcept;

/// The API with this name (e.g. "Produce"), or nullptr.
const api_info* find_api(std::string_view name) noexcept;

/// Every definition the codec was generated from, as one JSON array in the
/// shape of Kafka's message definitions (apiKey, type, name, validVersions,
/// flexibleVersions, fields, commonStructs).
std::string_view schema_json() noexcept;

}  // namespace kwire
