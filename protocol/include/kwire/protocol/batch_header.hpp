// Peeking at the fixed header of a record batch (magic 2) without reading,
// checking or decompressing the records after it.
//
// Whoever only needs the producer id or the offsets of a batch (fault rules
// matching on a producer, a broker deciding what to do before validating)
// reads them here, field by field, instead of at raw byte offsets.
#pragma once

#include <cstdint>
#include <span>

#include "kwire/protocol/error.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire {

/// The fixed header of a record batch: the same type record_batch::header()
/// returns (base offset, batch length, partition leader epoch, magic, crc,
/// attributes, last offset delta, first and max timestamp, producer id,
/// producer epoch, base sequence, record count).
using batch_header = record_batch_header;

/// Reads the 61-byte header at the start of `bytes`. Nothing else is checked:
/// not the CRC, not the batch length against the input, not the records.
/// Errors: codec_errc::truncated naming the first field the input ends in
/// (e.g. "producerId"), or codec_errc::invalid_record when magic is not 2
/// (a legacy message set). Pure function of its input; thread-safe.
result<batch_header> peek_batch_header(std::span<const std::uint8_t> bytes);

}  // namespace kwire
