// The producer's own errors (those not reported by a broker). Broker errors
// reach delivery reports as kafka_error codes (kafka_category()).
#pragma once

#include <system_error>

namespace kwire {

/// Why the producer itself failed a record.
enum class producer_errc {
  delivery_timeout = 1,   ///< delivery.timeout.ms passed before an acknowledgement
  record_too_large,       ///< larger than max.request.size or buffer.memory
  invalid_partition,      ///< an explicit partition the topic does not have
  unresolved_sequence,    ///< a possibly-written batch could not be retried safely after an epoch
                          ///< bump
  no_compatible_version,  ///< the broker supports no version of an API the producer needs
  buffer_exhausted,       ///< buffer.memory stayed full for max.block.ms (reported by shells)
  metadata_timeout,  ///< topic metadata did not arrive within max.block.ms (reported by shells)
  encode_failed,     ///< a batch could not be encoded (a codec error)
  producer_closed,   ///< send() after close(), or close() gave up before an acknowledgement
};

/// The category of producer_errc; its name is "kwire.producer".
const std::error_category& producer_category() noexcept;
inline std::error_code make_error_code(producer_errc e) noexcept {
  return {static_cast<int>(e), producer_category()};
}

}  // namespace kwire

template <>
struct std::is_error_code_enum<kwire::producer_errc> : std::true_type {};
