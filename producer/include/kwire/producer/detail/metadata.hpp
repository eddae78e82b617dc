// The producer core's metadata (Java's Metadata): the topics it was asked
// about, their partitions and leaders, and when to ask the cluster again
// (a topic first used or asked for, metadata.max.age.ms, leader-related
// errors, lost connections). It builds Metadata requests and reads their
// answers; which broker to ask is the network client's business, and the
// brokers an answer names go there too. Owned by the core; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "kwire/producer/detail/core_context.hpp"
#include "kwire/producer/detail/partition_state.hpp"
#include "kwire/protocol/messages/metadata.hpp"

namespace kwire::detail {

/// Topics, partitions, leaders and the refresh schedule. See the file comment.
class cluster_metadata {
 public:
  /// `ctx` must outlive the object.
  explicit cluster_metadata(core_context& ctx) : ctx_(ctx) {}

  /// The topic's entry, registered (and its metadata wanted at once) on first use.
  topic_state& topic(std::string_view name);
  /// Asks for the topic's metadata unless its partitions are known, or a
  /// non-retriable error was answered for it; returns that error, else {}.
  std::error_code want(std::string_view name);
  /// Asks for a refresh at the next chance (leader errors, lost connections,
  /// partitions without a leader).
  void invalidate() noexcept { wanted_ = true; }

  /// True when a Metadata request should go now; otherwise notes when it will be due.
  bool request_due(core_time now);
  /// A request for every registered topic.
  metadata_request build_request() const;
  /// The request was written.
  void on_request_sent();
  /// The request will get no answer (its connection was lost).
  void on_request_lost() noexcept { in_flight_ = false; }
  /// Reads an answer's topics (the caller passes its brokers to the network client).
  void on_response(const metadata_response& m, core_time now);

  /// A partition of a registered topic, or nullptr.
  partition_state* find_partition(std::string_view topic, std::int32_t index);
  /// The topic's partition count once a valid answer named them.
  std::optional<std::int32_t> partition_count(std::string_view topic) const;
  /// Every registered topic, by name (the order every part iterates in).
  std::map<std::string, topic_state, std::less<>>& topics() noexcept { return topics_; }

 private:
  core_context& ctx_;
  std::map<std::string, topic_state, std::less<>> topics_;
  bool wanted_ = true;
  bool in_flight_ = false;
  bool have_ = false;  // an answer has come
  core_time last_{};   // when the last answer came
  core_time backoff_until_{};
};

}  // namespace kwire::detail
