// Produce records as the handler needs them: the one batch to append, or an
// error for the partition. Internal to the Produce handler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::mockbroker::detail {

/// A produce partition's records turned into the one v2 batch to append, or
/// an error. `bytes` views the request's records or `converted` (moving the
/// parsed_batch moves the vector's buffer, so the view stays valid; a copy
/// would not be), and lives no longer than the request.
struct parsed_batch {
  std::int16_t error = 0;
  std::string message;
  std::vector<produce_response::batch_index_and_error_message> record_errors;
  std::vector<std::uint8_t> converted;  ///< legacy messages rewritten as a v2 batch
  bytes_view bytes;
  record_batch_header header;
};

/// Validates the records of one partition of a Produce request of `version`.
parsed_batch parse_produce_records(const record_set& records, std::int16_t version);

}  // namespace kwire::mockbroker::detail
