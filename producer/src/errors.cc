#include "kwire/producer/errors.hpp"

#include <string>

namespace kwire {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kwire.producer"; }
  std::string message(int code) const override {
    switch (static_cast<producer_errc>(code)) {
      case producer_errc::delivery_timeout:
        return "delivery.timeout.ms expired before acknowledgement";
      case producer_errc::record_too_large:
        return "record larger than max.request.size or buffer.memory";
      case producer_errc::invalid_partition:
        return "partition does not exist in the topic";
      case producer_errc::unresolved_sequence:
        return "batch may have been written under the old producer epoch; not retried to avoid a "
               "duplicate";
      case producer_errc::no_compatible_version:
        return "broker supports no usable version of a needed API";
      case producer_errc::buffer_exhausted:
        return "buffer.memory full for max.block.ms";
      case producer_errc::metadata_timeout:
        return "topic metadata not available within max.block.ms";
      case producer_errc::encode_failed:
        return "record batch could not be encoded";
      case producer_errc::producer_closed:
        return "producer closed before the record was acknowledged";
    }
    return "unknown producer error";
  }
};
}  // namespace

const std::error_category& producer_category() noexcept {
  static const category c;
  return c;
}

}  // namespace kwire
